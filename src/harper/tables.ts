// Creating and opening tables. A jsResource module gets no `ensureTable`, so tables are created
// with HarperDB's own `create_table` operation (which calls the same table() function) and then
// picked up from `databases` once this thread sees them.
import { databases, server } from 'harperdb';
import { guardWrites } from './writeGuard.js';

export interface Attribute {
  name: string;
  type?: 'String' | 'Int' | 'Float' | 'Boolean' | 'Date' | 'Bytes' | 'Any';
  indexed?: boolean;
  isPrimaryKey?: boolean;
}

export interface TableDefinition {
  database: string;
  table: string;
  attributes: Attribute[];
  /** Seconds before a record expires. */
  expiration?: number;
  /** Audit log on: needed for cross-thread subscriptions and history replay. */
  audit: boolean;
  /** Called when this call created the table (not when it existed or another thread won the race). */
  onCreated?: () => void;
}

/** One event of a table subscription or of `getHistory`. */
export interface TableEvent<T> {
  id: string;
  localTime: number;
  type: string;
  value: T;
}

export interface EventQueue<T> {
  on(event: 'data', listener: (event: TableEvent<T>) => void): unknown;
  end?(): void;
}

/** The part of a HarperDB table class this component uses. */
export interface HarperTable<T extends object = Record<string, unknown>> {
  readonly tableName: string;
  readonly databaseName: string;
  get(id: string): Promise<T | undefined> | T | undefined;
  /** With a context whose transaction is open, the write joins that transaction. */
  put(id: string, record: T, context?: object): Promise<unknown>;
  delete(id: string, context?: object): Promise<unknown>;
  publish(id: string, message: object): Promise<unknown>;
  search(query: object): AsyncIterable<T>;
  subscribe(request: object): Promise<EventQueue<T>>;
  getHistory(startTime?: number, endTime?: number): AsyncIterable<TableEvent<T>>;
  setTTLExpiration(seconds: number): void;
  primaryStore: TableStore<T>;
}

/** The table's LMDB store (lmdb-js), for synchronous reads, entry counts and shared memory. */
export interface TableStore<T> {
  get(id: string): T | undefined;
  getStats?(): { entryCount: number };
  getRange?(options: object): Iterable<{ key: unknown; value: unknown }>;
  getUserSharedBuffer?(key: string, defaultBuffer: ArrayBuffer): ArrayBuffer;
}

type StoreOf = { primaryStore: Pick<TableStore<unknown>, 'getStats'> };

/** LMDB entries of a table in O(1): rows, plus the entries deleted rows leave behind for a while. */
export function entryCount(table: StoreOf): number {
  return table.primaryStore.getStats?.().entryCount ?? 0;
}

type TableMap = Record<string, Record<string, unknown> | undefined>;

export function openTable<T extends object>(database: string, table: string): HarperTable<T> | undefined {
  return (databases as unknown as TableMap)[database]?.[table] as HarperTable<T> | undefined;
}

const creating = new Map<string, Promise<HarperTable<never>>>();

/**
 * Creates the table if it does not exist (any thread may race for it) and returns it. Tables made
 * this way are the component's own: writes from outside it are refused (writeGuard.ts).
 */
export function ensureTable<T extends object>(definition: TableDefinition): Promise<HarperTable<T>> {
  const existing = openTable<T>(definition.database, definition.table);
  if (existing) return Promise.resolve(guardWrites(existing));
  const key = `${definition.database}.${definition.table}`;
  let pending = creating.get(key);
  if (!pending) {
    pending = createAndWait(definition)
      .then(guardWrites)
      .finally(() => creating.delete(key));
    creating.set(key, pending);
  }
  return pending as Promise<HarperTable<T>>;
}

const WAIT_STEP_MS = 5;
const WAIT_LIMIT_MS = 10_000;

async function createAndWait(definition: TableDefinition): Promise<HarperTable<never>> {
  const { database, table, attributes, expiration, audit } = definition;
  try {
    await server.operation(
      { operation: 'create_table', database, table, primary_key: 'id', attributes, expiration, audit },
      {},
      false,
    );
    definition.onCreated?.();
  } catch (error) {
    // Another thread (or an earlier run) created it first: that is the normal race.
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
  for (let waited = 0; ; waited += WAIT_STEP_MS) {
    const opened = openTable<never>(database, table);
    if (opened) return opened;
    if (waited >= WAIT_LIMIT_MS) {
      throw new Error(`table ${database}.${table} was created but did not appear on this thread within ${WAIT_LIMIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}
