// Reading a table's committed changes from its database's audit log. This is the one module that
// uses HarperDB internals for sources (HarperDB 4.7's `Table.getHistory` yields neither the node a
// change was committed on nor the row before it, and reads the whole log once per table): the
// table's `auditStore` (an lmdb-js store of binary entries keyed by their commit time), its
// `primaryStore` (key and record decoding, the current entry of a row) and `tableId`. The layout
// of an entry (resources/auditStore.ts, readAuditEntry) is decoded here; `checkAuditInternals`
// checks at start that all of it is there and decodes as expected.
import type { Operation } from './definition.js';
import type { Change } from './changes.js';

interface LmdbStore {
  getRange(options: object): Iterable<{ key: unknown; value: Uint8Array }>;
  get(key: unknown): Uint8Array | undefined;
  readKey?(buffer: Uint8Array, start: number, end: number): unknown;
  decoder?: { decode(buffer: Uint8Array): unknown };
  getEntry?(id: unknown): { value: unknown; version: number; localTime?: number } | undefined;
}

/** The internals of a HarperDB 4.7 table class this module reads. */
export interface AuditedTable {
  tableName: string;
  databaseName: string;
  tableId: number;
  primaryKey: string;
  audit?: boolean;
  schemaDefined?: boolean;
  attributes?: Array<{ name: string }>;
  auditStore: LmdbStore;
  primaryStore: LmdbStore;
}

const HAS_RECORD = 16;
const HAS_PARTIAL_RECORD = 32;
const HAS_CURRENT_RESIDENCY_ID = 512;
const HAS_PREVIOUS_RESIDENCY_ID = 1024;
const HAS_ORIGINATING_OPERATION = 2048;
const HAS_EXPIRATION_EXTENDED_TYPE = 0x1000;
const TYPES = ['', 'put', 'delete', 'message', 'invalidate', 'patch', 'relocate'];
/** The audit log's first byte of a float64 timestamp (a date of this era). */
const FLOAT_MARK = 66;
/** Follow at most this many partial (patch) entries back to a full row. */
const MAX_PATCH_CHAIN = 20;
/** Where HarperDB records how far it has removed old entries (a float64 in native byte order). */
const LAST_REMOVED = Symbol.for('last-removed');
/** One read looks at most this many entries (of any table) per change it may return. */
const SCAN_FACTOR = 20;

export interface AuditEntry {
  type: string;
  nodeId: number;
  tableId: number;
  /** Commit time of the transaction (its version). */
  version: number;
  /** Audit key of the row's previous change, if it had one. */
  previousTime: number | undefined;
  recordId(): unknown;
  /** The stored row (full, or partial for a patch), undefined when the entry has none. */
  value(): Record<string, unknown> | undefined;
  partial: boolean;
}

class Reader {
  position = 0;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  int(): number {
    const first = this.view.getUint8(this.position++);
    if (first < 0x80) return first;
    if (first < 0xc0) {
      const value = this.view.getUint16(this.position - 1) & 0x7fff;
      this.position++;
      return value;
    }
    if (first === 0xff) {
      const value = this.view.getUint32(this.position);
      this.position += 4;
      return value;
    }
    const value = this.view.getUint32(this.position - 1) & 0x3fffffff;
    this.position += 3;
    return value;
  }
  float(): number {
    const value = this.view.getFloat64(this.position);
    this.position += 8;
    return value;
  }
}

export function decodeEntry(bytes: Uint8Array, table: AuditedTable): AuditEntry {
  const reader = new Reader(bytes);
  const previousTime = bytes[0] === FLOAT_MARK ? reader.float() : undefined;
  const action = reader.int();
  const nodeId = reader.int();
  const tableId = reader.int();
  const idLength = reader.int();
  const idStart = reader.position;
  reader.position += idLength;
  const version = reader.float();
  if (action & HAS_CURRENT_RESIDENCY_ID) reader.int();
  if (action & HAS_PREVIOUS_RESIDENCY_ID) reader.int();
  if (action & HAS_EXPIRATION_EXTENDED_TYPE) reader.float();
  if (action & HAS_ORIGINATING_OPERATION) reader.int();
  const userLength = reader.int();
  const valueStart = reader.position + userLength;
  const hasValue = (action & (HAS_RECORD | HAS_PARTIAL_RECORD)) !== 0 && valueStart < bytes.length;
  return {
    type: TYPES[action & 7] ?? 'unknown',
    nodeId,
    tableId,
    version,
    previousTime,
    partial: (action & HAS_PARTIAL_RECORD) !== 0 && (action & HAS_RECORD) === 0,
    recordId: () => table.primaryStore.readKey!(bytes, idStart, idStart + idLength),
    value: () => (hasValue ? (table.primaryStore.decoder!.decode(bytes.subarray(valueStart)) as Record<string, unknown>) : undefined),
  };
}

export class AuditInternalsMissing extends Error {}

/** Throws, naming what is missing, when this HarperDB does not have what this module reads. */
export function checkAuditInternals(table: unknown): asserts table is AuditedTable {
  const t = table as Partial<AuditedTable> | undefined;
  const missing: string[] = [];
  if (!t?.auditStore || typeof t.auditStore.getRange !== 'function' || typeof t.auditStore.get !== 'function') missing.push('auditStore.getRange/get');
  if (typeof t?.primaryStore?.readKey !== 'function') missing.push('primaryStore.readKey');
  if (typeof t?.primaryStore?.decoder?.decode !== 'function') missing.push('primaryStore.decoder');
  if (typeof t?.primaryStore?.getEntry !== 'function') missing.push('primaryStore.getEntry');
  if (typeof t?.tableId !== 'number') missing.push('tableId');
  if (missing.length > 0) {
    throw new AuditInternalsMissing(`harper-mqtt-bridge: sources need HarperDB 4.7's table internals (${missing.join(', ')} missing on ${t?.tableName ?? 'a table'}); this HarperDB version is not supported.`);
  }
}

export interface FeedRead {
  changes: Change[];
  /** The key of the last audit entry read (of any table): the source is past it once the changes are published. */
  last: number;
  /** More entries may follow (the read stopped at its limit). */
  more: boolean;
}

/** Which changes count: those committed on this node (0 is always the local node in HarperDB's id mapping). */
export const LOCAL_NODE_ID = 0;

/** The committed changes of one table, from its database's audit log. */
export class TableFeed {
  constructor(readonly table: AuditedTable) {
    checkAuditInternals(table);
  }

  /**
   * Changes after `after` (exclusive), committed on this node, up to about `limit` entries;
   * a transaction is never split (a batch message is one transaction).
   */
  read(after: number, limit: number): FeedRead {
    const { table } = this;
    const changes: Change[] = [];
    let last = after;
    let read = 0;
    let scanned = 0;
    let boundary: number | null = null;
    for (const { key, value } of table.auditStore.getRange({ start: Math.max(after, 1), exclusiveStart: true, snapshot: false })) {
      if (typeof key !== 'number') break; // past the timestamps: bookkeeping keys
      if (key <= after) continue;
      const entry = decodeEntry(value, table);
      if (boundary !== null && entry.version !== boundary) return { changes, last, more: true };
      last = key;
      // Other tables' entries count too, so a busy neighbour does not make one read scan the whole log.
      if (++scanned >= limit * SCAN_FACTOR && boundary === null) boundary = entry.version;
      if (entry.tableId !== table.tableId || entry.nodeId !== LOCAL_NODE_ID) continue;
      const change = this.change(key, entry);
      if (change) changes.push(change);
      if (++read >= limit && boundary === null) boundary = entry.version;
    }
    return { changes, last, more: false };
  }

  /** Up to where HarperDB has removed old entries (logging.auditRetention), if it has. */
  removedUpTo(): number | undefined {
    const bytes = this.table.auditStore.get(LAST_REMOVED);
    if (!bytes || bytes.length < 8) return undefined;
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
  }

  /** The audit position and commit time of a row's last change, if the row has an entry. */
  lastChangeOf(id: unknown): { position: number; txnTime: number; exists: boolean } | undefined {
    const entry = this.table.primaryStore.getEntry!(id);
    if (!entry?.localTime) return undefined;
    return { position: entry.localTime, txnTime: entry.version, exists: entry.value != null };
  }

  /** The change at an audit position, if the log still has it. */
  changeAt(position: number): Change | null {
    const bytes = this.table.auditStore.get(position);
    return bytes ? this.change(position, decodeEntry(bytes, this.table)) : null;
  }

  private change(key: number, entry: AuditEntry): Change | null {
    if (entry.type !== 'put' && entry.type !== 'patch' && entry.type !== 'delete') return null; // messages, invalidations
    const id = entry.recordId();
    const old = entry.previousTime ? this.rowAt(entry.previousTime, 0) : null;
    if (entry.type === 'delete') return { position: key, txnTime: entry.version, id, op: 'delete', old };
    let row = entry.value() ?? null;
    if (entry.partial) row = old ? { ...old, ...row } : row;
    const op: Operation = old === null ? 'insert' : 'update';
    return { position: key, txnTime: entry.version, id, op, old, new: row };
  }

  /** The row as an earlier change left it: null when it did not exist, undefined when the log no longer says. */
  private rowAt(key: number, depth: number): Record<string, unknown> | null | undefined {
    const bytes = this.table.auditStore.get(key);
    if (!bytes) return undefined;
    const entry = decodeEntry(bytes, this.table);
    if (entry.type === 'delete') return null;
    const value = entry.value();
    if (!entry.partial) return value ?? null;
    if (depth >= MAX_PATCH_CHAIN || !entry.previousTime) return undefined;
    const before = this.rowAt(entry.previousTime, depth + 1);
    return before ? { ...before, ...value } : undefined;
  }
}
