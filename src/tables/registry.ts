// The topic-table registry: which table holds which topic prefix. It is a table itself
// (`mqtt_topics`), so every worker thread and every restart learns all topic tables, and
// each thread registers them as HarperDB resources before it serves a client.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { readOnlyView } from '../harper/restView.js';
import { ensureTable, rowCount, type Attribute, type HarperTable, type TableEvent } from '../harper/tables.js';
import { READABLE_FIELDS, type MessageRow } from '../messages.js';
import { DEFAULT_HASH_CHARS, resourcePathFor, tableNameFor } from '../topics/naming.js';
import { PrefixTree } from '../topics/prefixTree.js';
import { claim } from './ownership.js';

export interface TopicTable {
  prefix: string;
  name: string;
  database: string;
  /** REST/MQTT resource path, null when only the table name reaches it. */
  path: string | null;
  table: HarperTable<MessageRow>;
}

interface RegistryRow {
  id: string;
  prefix: string;
  path: string | null;
  database: string;
  createdAt: Date;
  createdBy: string;
}

export const REGISTRY_TABLE = 'mqtt_topics';

/**
 * Topic tables declare only their key. Every declared attribute is a metadata entry HarperDB
 * re-reads on every thread whenever any table is created, so with thousands of topic tables the
 * rows' other fields (topic, payload, qos, ...) stay undeclared: stored, listed and selectable,
 * but not usable in query conditions (the mqtt_history table is for queries).
 */
export const TOPIC_TABLE_ATTRIBUTES: Attribute[] = [{ name: 'id', isPrimaryKey: true }];

// Hash lengths tried in turn when a hashed table name already belongs to another prefix.
const HASH_LENGTHS = [DEFAULT_HASH_CHARS, 16, 24, 64];

type ResourceEntry = { Resource: { tableName?: string } };

export class TopicRegistry {
  private readonly byPrefix = new Map<string, TopicTable>();
  private readonly creating = new Map<string, Promise<TopicTable>>();
  readonly tree = new PrefixTree<TopicTable>();

  /** Topic tables per database, to spread them over databases (see `tablesPerDatabase`). */
  private readonly perDatabase = new Map<string, number>();

  private constructor(
    private readonly database: string,
    private readonly rows: HarperTable<RegistryRow>,
    private readonly restTopicPaths: boolean,
    private readonly tablesPerDatabase: number,
    private readonly onCreated: () => void,
  ) {}

  static async open(database: string, restTopicPaths: boolean, tablesPerDatabase: number, onCreated: () => void = () => undefined): Promise<TopicRegistry> {
    const rows = await ensureTable<RegistryRow>({
      database,
      table: REGISTRY_TABLE,
      attributes: [
        { name: 'id', isPrimaryKey: true },
        { name: 'prefix', type: 'String', indexed: true },
        { name: 'path', type: 'String' },
        { name: 'database', type: 'String' },
        { name: 'createdAt', type: 'Date' },
        { name: 'createdBy', type: 'String' },
      ],
      audit: true,
    });
    server.resources.set(REGISTRY_TABLE, readOnlyView(rows, ['id', 'prefix', 'path', 'database', 'createdAt', 'createdBy']), {
      rest: true,
      mqtt: false,
    });
    const registry = new TopicRegistry(database, rows, restTopicPaths, tablesPerDatabase, onCreated);
    // Listen before loading, so a table another thread creates meanwhile is not missed.
    const changes = await rows.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<RegistryRow>) => {
      if (event.type === 'put' && event.value) {
        registry.adopt(event.value).catch((error) => log.error('could not register topic table', event.id, error));
      }
    });
    let count = 0;
    for await (const row of rows.search({})) {
      await registry.adopt(row);
      count++;
    }
    log.info(`registered ${count} topic tables from ${database}.${REGISTRY_TABLE}`);
    return registry;
  }

  get size(): number {
    return this.byPrefix.size;
  }

  /** Retained messages: the rows of all topic tables. */
  retainedCount(): number {
    let count = 0;
    for (const { table } of this.byPrefix.values()) count += rowCount(table);
    return count;
  }

  get(prefix: string): TopicTable | undefined {
    return this.byPrefix.get(prefix);
  }

  /** The table for `prefix`, created (and announced to all threads) on first use. */
  ensure(prefix: string, createdBy: string): Promise<TopicTable> {
    const known = this.byPrefix.get(prefix);
    if (known) return Promise.resolve(known);
    let pending = this.creating.get(prefix);
    if (!pending) {
      pending = this.create(prefix, createdBy).finally(() => this.creating.delete(prefix));
      this.creating.set(prefix, pending);
    }
    return pending;
  }

  /** The table name `ensure` would use, without creating anything (for permission checks). */
  nameFor(prefix: string): string {
    return this.byPrefix.get(prefix)?.name ?? tableNameFor(prefix);
  }

  /** The first database with room: `data`, then `data_topics_2`, `data_topics_3`, ... */
  private placement(): string {
    for (let n = 1; ; n++) {
      const database = n === 1 ? this.database : `${this.database}_topics_${n}`;
      if ((this.perDatabase.get(database) ?? 0) < this.tablesPerDatabase) return database;
    }
  }

  private async create(prefix: string, createdBy: string): Promise<TopicTable> {
    const name = await this.freeName(prefix);
    const database = this.placement();
    await ensureTable<MessageRow>({ database, table: name, attributes: TOPIC_TABLE_ATTRIBUTES, audit: false, onCreated: this.onCreated });
    const row: RegistryRow = {
      id: name,
      prefix,
      path: resourcePathFor(prefix),
      database,
      createdAt: new Date(),
      createdBy,
    };
    await this.rows.put(name, row);
    log.info(`created topic table ${database}.${name} for prefix ${JSON.stringify(prefix)}`);
    return this.adopt(row);
  }

  private async freeName(prefix: string): Promise<string> {
    for (const length of HASH_LENGTHS) {
      const name = tableNameFor(prefix, length);
      const owner = await this.rows.get(name);
      if (!owner || owner.prefix === prefix) return name;
    }
    throw new Error(`no free table name for topic prefix ${JSON.stringify(prefix)}`);
  }

  private async adopt(row: RegistryRow): Promise<TopicTable> {
    const known = this.byPrefix.get(row.prefix);
    if (known) return known;
    const table = await ensureTable<MessageRow>({
      database: row.database,
      table: row.id,
      attributes: TOPIC_TABLE_ATTRIBUTES,
      audit: false,
    });
    const entry: TopicTable = { prefix: row.prefix, name: row.id, database: row.database, path: row.path, table };
    // Two awaits may have raced to adopt the same row; keep the first.
    const raced = this.byPrefix.get(row.prefix);
    if (raced) return raced;
    this.register(entry);
    this.perDatabase.set(row.database, (this.perDatabase.get(row.database) ?? 0) + 1);
    this.byPrefix.set(row.prefix, entry);
    this.tree.set(row.prefix, entry);
    return entry;
  }

  private register(entry: TopicTable): void {
    const view = readOnlyView(entry.table, READABLE_FIELDS);
    claim(view);
    const paths: Array<[string, { rest: boolean; mqtt: boolean }]> = [[entry.name, { rest: true, mqtt: false }]];
    if (entry.path && this.restTopicPaths) paths.push([entry.path, { rest: true, mqtt: true }]);
    for (const [path, exportTypes] of paths) {
      const existing = server.resources.get(path) as ResourceEntry | undefined;
      if (existing && existing.Resource.tableName !== entry.name) {
        // HarperDB would replace a conflicting registration with an error resource; leave theirs alone.
        log.warn(`topic table ${entry.name} not registered at /${path}: the path already serves something else`);
        continue;
      }
      server.resources.set(path, view, exportTypes);
    }
  }
}
