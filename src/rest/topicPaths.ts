// REST by topic path: GET /home/sensors/temp answers with the retained payload of that topic, and
// GET /home/sensors/ lists the retained messages one level below it, wherever they are kept (a
// per-level table or a rule table). HarperDB routes a URL to the resource registered at its longest
// matching path, so one resource per first topic level ("root") serves every topic under it; the
// roots are recorded in `mqtt_topic_roots`, so every thread and every restart registers them.
import { server } from 'harperdb';
import type { Access } from '../authorize.js';
import { requestAccess, type RequestAccessOptions } from '../devices/requestAccess.js';
import { log } from '../harper/log.js';
import { HttpError, restResource, type RestRequest } from '../harper/restResource.js';
import { ensureTable, type HarperTable, type TableEvent } from '../harper/tables.js';
import { READABLE_FIELDS } from '../messages.js';
import type { RetainedStore } from '../retained.js';
import type { TopicRegistry } from '../tables/registry.js';
import { claim } from '../tables/ownership.js';

export const ROOTS_TABLE = 'mqtt_topic_roots';

interface RootRow {
  id: string;
  createdAt: Date;
}

/** The first level of a topic, when HarperDB's router can route it to a resource. */
export function topicRoot(topic: string): string | null {
  const slash = topic.indexOf('/');
  const root = slash === -1 ? topic : topic.slice(0, slash);
  // '' (a leading '/') cannot be a path; '$' topics are the broker's; '.' and '?' change URL parsing.
  if (root === '' || root.startsWith('$') || /[?#.%]/.test(root)) return null;
  return root;
}

/** Topic of a URL path below a root (still URL-encoded): '' -> the root itself. */
export function topicOfPath(root: string, path: string): string {
  if (path === '') return root;
  return root + path.split('/').map((level) => decodeURIComponent(level)).join('/');
}

interface Delegate {
  get(target: unknown, request: unknown): unknown;
}

export class TopicPaths {
  private readonly roots = new Set<string>();
  private warnedFull = false;

  private constructor(
    private readonly rows: HarperTable<RootRow>,
    private readonly retained: RetainedStore,
    private readonly registry: TopicRegistry,
    private readonly maxRoots: number,
    private readonly access: RequestAccessOptions,
  ) {}

  static async open(retained: RetainedStore, registry: TopicRegistry, maxRoots: number, access: RequestAccessOptions): Promise<TopicPaths> {
    const { database } = access;
    const rows = await ensureTable<RootRow>({
      database,
      table: ROOTS_TABLE,
      attributes: [
        { name: 'id', type: 'String', isPrimaryKey: true },
        { name: 'createdAt', type: 'Date' },
      ],
      audit: true, // every thread follows new roots
    });
    const paths = new TopicPaths(rows, retained, registry, maxRoots, access);
    const changes = await rows.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<RootRow>) => {
      if (event.type === 'put') paths.register(event.id);
    });
    for await (const row of rows.search({})) paths.register(row.id);
    // Tables created before roots were recorded.
    for (const table of registry.all()) paths.note(table.prefix);
    return paths;
  }

  /** Makes the root of `topic` reachable over REST (all threads, from now on and after restarts). */
  note(topic: string): void {
    const root = topicRoot(topic);
    if (root === null || this.roots.has(root)) return;
    if (!this.register(root)) return;
    this.rows.put(root, { id: root, createdAt: new Date() }).catch((error) => log.warn(`could not record topic root ${root}`, error));
  }

  private register(root: string): boolean {
    if (this.roots.has(root)) return true;
    if (this.roots.size >= this.maxRoots) {
      if (!this.warnedFull) log.warn(`${this.maxRoots} topic roots are served over REST; topics under further first levels are reachable by table name only`);
      this.warnedFull = true;
      return false;
    }
    this.roots.add(root);
    const existing = server.resources.get(root);
    if (existing) {
      log.debug(`/${root} serves something else; topics under ${root}/ are reachable by table name only`);
      return true;
    }
    const resource = restResource(`topics under ${root}`, { get: (request) => this.get(root, request) });
    claim(resource);
    server.resources.set(root, resource, { rest: true, mqtt: false });
    return true;
  }

  private async get(root: string, request: RestRequest): Promise<unknown> {
    const access = requestAccess(request.user, this.access);
    const topic = topicOfPath(root, request.path);
    if (!topic.endsWith('/')) {
      if (!access.mayRead(topic, () => this.retained.tableName(topic))) throw new HttpError(403, `not allowed to read ${topic}`);
      const row = await this.retained.get(topic);
      if (!row) throw new HttpError(404, `no retained message on ${topic}`);
      return row; // a row with contentType and data: HarperDB answers with the exact bytes
    }
    // A listing: the per-level table of that prefix keeps HarperDB's query features (select, sort,
    // limit), for users HarperDB's table permissions apply to; a device gets the rows of its prefixes.
    const filter = topic + '+';
    const table = this.registry.get(topic);
    const view = table && !access.device && !this.retained.reachesRules(filter) ? (server.resources.get(table.name) as { Resource: Delegate } | undefined) : undefined;
    if (view) {
      return view.Resource.get(request.target('/' + (request.search ? '?' + request.search : '')), request.raw);
    }
    return this.list(filter, access);
  }

  /** Readable fields (and a rule row's own columns) of the rows one level below a prefix. */
  private async *list(filter: string, access: Access): AsyncIterable<Record<string, unknown>> {
    for await (const { row, columns } of this.retained.rows(filter)) {
      if (!access.mayRead(row.topic, () => this.retained.tableName(row.topic))) continue;
      const shown: Record<string, unknown> = {};
      for (const field of [...READABLE_FIELDS, ...columns]) shown[field] = (row as unknown as Record<string, unknown>)[field];
      yield shown;
    }
  }
}
