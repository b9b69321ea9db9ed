// The topic-table registry of the one-table-per-level mapping: which table holds the retained
// messages of which topic prefix. It is a table itself (`mqtt_topics`), so every worker thread and
// every restart learns all topic tables. A table is created when the first retained message of its
// prefix is stored: subscriptions and non-retained messages need none.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { workerIndex } from '../harper/thread.js';
import { readOnlyView } from '../harper/restView.js';
import { sharedBuffer } from '../harper/sharedMemory.js';
import { rowCount } from '../harper/rowCount.js';
import { ensureTable, type Attribute, type HarperTable, type TableEvent } from '../harper/tables.js';
import { READABLE_FIELDS, type MessageRow } from '../messages.js';
import { PublishRefused } from '../publish.js';
import { DEFAULT_HASH_CHARS, resourcePathFor, tableNameFor } from '../topics/naming.js';
import { PrefixTree } from '../topics/prefixTree.js';
import { Semaphore, type TableBudget } from './creationBudget.js';
import { FanOut, type FanOutReport } from './fanOut.js';
import { claim } from './ownership.js';

export interface TopicTable {
  prefix: string;
  name: string;
  database: string;
  /** The topic path a REST client uses (`a/b/c`), null when HarperDB's router cannot represent it. */
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
 * Topic tables declare only their key (a string: row ids like `42` stay text). Every declared
 * attribute is a metadata entry HarperDB re-reads on every thread whenever any table is created, so
 * with thousands of topic tables the rows' other fields (topic, payload, qos, ...) stay undeclared:
 * stored, listed and selectable, but not usable in query conditions (table rules and the
 * mqtt_history table are for queries).
 */
export const TOPIC_TABLE_ATTRIBUTES: Attribute[] = [{ name: 'id', type: 'String', isPrimaryKey: true }];

// Hash lengths tried in turn when a hashed table name already belongs to another prefix.
const HASH_LENGTHS = [DEFAULT_HASH_CHARS, 16, 24, 64];
/** HarperDB creates tables one at a time anyway; more at once only queue inside it. */
const CONCURRENT_CREATIONS = 2;

export interface RegistryOptions {
  tablesPerDatabase: number;
  /** 0: no limit. */
  maxTables: number;
  fanOutWarning: number;
  onCreated?(): void;
  /** A table was refused (cap or a client's budget). */
  onRefused?(): void;
}

const CATCH_UP_TIMEOUT_MS = 2000;
const CATCH_UP_POLL_MS = 2;

export class TopicRegistry {
  private readonly byPrefix = new Map<string, TopicTable>();
  private readonly creating = new Map<string, Promise<TopicTable>>();
  private readonly creations = new Semaphore(CONCURRENT_CREATIONS);
  private readonly fanOut: FanOut;
  readonly tree = new PrefixTree<TopicTable>();

  /** Topic tables per database, to spread them over databases (see `tablesPerDatabase`). */
  private readonly perDatabase = new Map<string, number>();
  /**
   * Registry rows written by any thread (shared memory), and those this thread has adopted: a
   * table another thread just created reaches this one a moment later, through the table's
   * change events. See `caughtUp`.
   */
  private puts = new Int32Array(1);
  private adopted = 0;

  private constructor(
    private readonly database: string,
    private readonly rows: HarperTable<RegistryRow>,
    private readonly options: RegistryOptions,
  ) {
    this.fanOut = new FanOut(options.fanOutWarning);
  }

  static async open(database: string, options: RegistryOptions): Promise<TopicRegistry> {
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
    const registry = new TopicRegistry(database, rows, options);
    // Listen before loading, so a table another thread creates meanwhile is not missed.
    const changes = await rows.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<RegistryRow>) => {
      if (event.type === 'put' && event.value) {
        registry
          .adopt(event.value)
          .catch((error) => log.error('could not register topic table', event.id, error))
          .finally(() => registry.adopted++);
      }
    });
    // Rows written before this point are in the load below.
    registry.puts = new Int32Array(sharedBuffer(rows as unknown as HarperTable<object>, 'harper-mqtt-bridge/registry-puts', 4));
    registry.adopted = Atomics.load(registry.puts, 0);
    let count = 0;
    for await (const row of rows.search({})) {
      await registry.adopt(row);
      count++;
    }
    log.debug(`registered ${count} topic tables from ${database}.${REGISTRY_TABLE}`);
    return registry;
  }

  get size(): number {
    return this.byPrefix.size;
  }

  /**
   * Resolves once this thread knows every topic table created before the call, on any thread
   * (or after `timeoutMs`: a lost event must not slow every later lookup). A subscriber that
   * arrives on this thread right after another thread created a table for a retained message
   * must find that message.
   */
  async caughtUp(timeoutMs = CATCH_UP_TIMEOUT_MS): Promise<void> {
    const target = Atomics.load(this.puts, 0);
    if (this.adopted >= target) return;
    const deadline = Date.now() + timeoutMs;
    while (this.adopted < target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
    if (this.adopted < target) {
      log.debug(`topic tables: ${target - this.adopted} creations not seen on this thread after ${timeoutMs} ms; going on`);
      this.adopted = target;
    }
  }

  /** Retained messages: the rows of all topic tables. */
  retainedCount(): Promise<number> {
    return rowCount([...this.byPrefix.values()].map(({ table }) => table));
  }

  /** Parents with more sibling tables than `fanOutWarning`, largest first. */
  fanOutReports(): FanOutReport[] {
    return this.fanOut.over();
  }

  get(prefix: string): TopicTable | undefined {
    return this.byPrefix.get(prefix);
  }

  all(): IterableIterator<TopicTable> {
    return this.byPrefix.values();
  }

  /**
   * The table for `prefix`, created (and announced to all threads) on first use. A new table is
   * refused (PublishRefused 'quota-exceeded') when the broker holds `maxTables` or the client's
   * budget is spent; `budget` is undefined for the broker's own messages.
   */
  ensure(prefix: string, createdBy: string, budget?: TableBudget): Promise<TopicTable> {
    const known = this.byPrefix.get(prefix);
    if (known) return Promise.resolve(known);
    let pending = this.creating.get(prefix);
    if (!pending) {
      const { maxTables } = this.options;
      if (maxTables > 0 && this.byPrefix.size + this.creating.size >= maxTables) {
        return this.refuse(`the broker holds its maximum of ${maxTables} topic tables (maxTopicTables); a table rule keeps many topics in one table`);
      }
      if (budget && !budget.take()) {
        return this.refuse(`client ${JSON.stringify(createdBy)} created new topic tables faster than tableCreationRate/tableCreationBurst allow`);
      }
      pending = this.creations.run(() => this.create(prefix, createdBy)).finally(() => this.creating.delete(prefix));
      this.creating.set(prefix, pending);
    }
    return pending;
  }

  /** The table name `ensure` would use, without creating anything (for permission checks). */
  nameFor(prefix: string): string {
    return this.byPrefix.get(prefix)?.name ?? tableNameFor(prefix);
  }

  private refuse(reason: string): Promise<never> {
    this.options.onRefused?.();
    return Promise.reject(new PublishRefused('quota-exceeded', reason));
  }

  /** The first database with room: `data`, then `data_topics_2`, `data_topics_3`, ... */
  private placement(): string {
    for (let n = 1; ; n++) {
      const database = n === 1 ? this.database : `${this.database}_topics_${n}`;
      if ((this.perDatabase.get(database) ?? 0) < this.options.tablesPerDatabase) return database;
    }
  }

  private async create(prefix: string, createdBy: string): Promise<TopicTable> {
    // Another thread may have created it while this creation waited its turn.
    const known = this.byPrefix.get(prefix);
    if (known) return known;
    const name = await this.freeName(prefix);
    const database = this.placement();
    await ensureTable<MessageRow>({ database, table: name, attributes: TOPIC_TABLE_ATTRIBUTES, audit: false, onCreated: this.options.onCreated });
    const row: RegistryRow = {
      id: name,
      prefix,
      path: resourcePathFor(prefix),
      database,
      createdAt: new Date(),
      createdBy,
    };
    await this.rows.put(name, row);
    Atomics.add(this.puts, 0, 1);
    log.debug(`created topic table ${database}.${name} for prefix ${JSON.stringify(prefix)}`);
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
    this.registerName(entry);
    this.perDatabase.set(row.database, (this.perDatabase.get(row.database) ?? 0) + 1);
    this.byPrefix.set(row.prefix, entry);
    this.tree.set(row.prefix, entry);
    const fanOut = this.fanOut.add(row.prefix);
    // Every thread adopts every table; one of them says it.
    if (fanOut && workerIndex === 0) {
      log.warn(
        `${fanOut.tables} topic tables under ${fanOut.parent} (one per ${fanOut.parent.replace(/\+\/$/, '<level>/')}); ` +
          `a table rule would keep these topics in one queryable table, e.g. topicRules: [{ pattern: "${fanOut.suggestedPattern}", table: <name> }] (docs/topics-and-tables.md)`,
      );
    }
    return entry;
  }

  /** REST by table name (`/mqtt_a_b_c/`); topic paths are served by the topic-path resources. */
  private registerName(entry: TopicTable): void {
    const existing = server.resources.get(entry.name) as { Resource: { tableName?: string } } | undefined;
    if (existing && existing.Resource.tableName !== entry.name) {
      log.warn(`topic table ${entry.name} not registered at /${entry.name}: the path already serves something else`);
      return;
    }
    const view = readOnlyView(entry.table, READABLE_FIELDS);
    claim(view);
    server.resources.set(entry.name, view, { rest: true, mqtt: false });
  }
}
