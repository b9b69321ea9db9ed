// The message history table: every accepted message, retained or not, for REST queries like
// "the last 10 messages of a topic" or "everything between 10:00 and 11:00". Rows expire
// after `historyTtl` seconds.
import { server } from 'harperdb';
import { readOnlyView } from './harper/restView.js';
import { log } from './harper/log.js';
import { WriteBehind } from './harper/writeBehind.js';
import { ensureTable, entryCount, type HarperTable } from './harper/tables.js';
import { workerIndex } from './harper/thread.js';
import { asKeyQuery, historyId, timeConditionsAsIds } from './historyId.js';
import { literalPrefix } from './telemetry/telemetryQuery.js';
import { messageRow, READABLE_FIELDS, type BusMessage, type MessageRow } from './messages.js';

export const HISTORY_TABLE = 'mqtt_history';

/**
 * The history has a database of its own: each database is one LMDB environment with one write
 * lock, and a history commit (up to 2,000 rows) holds it while HarperDB encodes the rows. In the
 * database of the message log, the other thread's log commits (before PUBACK) waited behind it.
 */
export const historyDatabaseOf = (database: string): string => `${database}_history`;

/**
 * A history row costs HarperDB more CPU than routing the message (docs/performance.md measured
 * about 100 µs with two indexes; it has one now), so rows are written behind: during a burst they
 * wait (up to 50,000 per thread) and are written as soon as the thread has time; past 200,000
 * publishers are slowed.
 * Acknowledged QoS 1/2 messages do not depend on it: they are durable in the message log.
 */
const HISTORY_QUEUE = { soft: 50_000, hard: 200_000, perCommit: 2000, intervalMs: 20 };
const ERROR_LOG_INTERVAL_MS = 60_000;

export class History {
  private sequence = 0;
  private readonly behind: WriteBehind<[string, MessageRow]>;
  private lastErrorLogged = 0;

  private constructor(private readonly table: HarperTable<MessageRow>) {
    this.behind = new WriteBehind<[string, MessageRow]>(
      (rows, context) => {
        for (const [id, row] of rows) void table.put(id, row, context);
      },
      HISTORY_QUEUE,
      (error, rows) => {
        if (Date.now() - this.lastErrorLogged < ERROR_LOG_INTERVAL_MS) return;
        this.lastErrorLogged = Date.now();
        log.error(`could not write ${rows} history rows (further errors within a minute are not logged)`, error);
      },
    );
  }

  /** Past its limit, the queue asks for publishers to be slowed down. */
  get full(): boolean {
    return this.behind.full;
  }

  /** Rows of this thread not written yet (written behind bursts). */
  get pending(): number {
    return this.behind.backlog;
  }

  /** Opens the history of the component's `database` (kept in historyDatabaseOf(database)). */
  static async open(database: string, ttlSeconds: number): Promise<History> {
    const table = await ensureTable<MessageRow>({
      database: historyDatabaseOf(database),
      table: HISTORY_TABLE,
      attributes: [
        { name: 'id', isPrimaryKey: true },
        { name: 'topic', type: 'String', indexed: true },
        // Not indexed: ids start with the time, so time conditions are key ranges (historyId.ts).
        { name: 'timestamp', type: 'Date' },
        { name: 'clientId', type: 'String' },
        { name: 'qos', type: 'Int' },
        { name: 'retain', type: 'Boolean' },
        { name: 'format', type: 'String' },
        { name: 'payload' },
        { name: 'contentType', type: 'String' },
        { name: 'data', type: 'Bytes' },
        { name: 'properties' },
      ],
      expiration: ttlSeconds,
      audit: false,
    });
    // The table keeps the expiration it was created with; apply the configured one on each start.
    table.setTTLExpiration(ttlSeconds);
    server.resources.set(HISTORY_TABLE, readOnlyView(table, READABLE_FIELDS, undefined, asKeyQuery), { rest: true, mqtt: false });
    return new History(table);
  }

  /**
   * Messages of topics that may match `filter` (the caller checks each with topicMatches), newest
   * first, within [from, to] (epoch ms; null: open).
   */
  search(filter: string, from: number | null, to: number | null): AsyncIterable<MessageRow> {
    const conditions: object[] = [];
    const prefix = literalPrefix(filter);
    if (prefix === filter) conditions.push({ attribute: 'topic', comparator: 'equals', value: filter });
    // Without its last '/', so that `a/#` also finds `a` itself.
    else if (prefix !== '') conditions.push({ attribute: 'topic', comparator: 'starts_with', value: prefix.slice(0, -1) });
    if (from !== null) conditions.push({ attribute: 'timestamp', comparator: 'greater_than_equal', value: from });
    if (to !== null) conditions.push({ attribute: 'timestamp', comparator: 'less_than_equal', value: to });
    return this.table.search({ conditions: timeConditionsAsIds(conditions), sort: { attribute: 'id', descending: true }, select: [...READABLE_FIELDS] });
  }

  /** The newest `limit` messages of a topic, newest first (ids start with the time). */
  async latest(topic: string, limit: number): Promise<MessageRow[]> {
    const rows: MessageRow[] = [];
    const query = { conditions: [{ attribute: 'topic', value: topic }], sort: { attribute: 'id', descending: true }, limit };
    for await (const row of this.table.search(query)) rows.push(row);
    return rows;
  }

  /** Rows kept, approximately (O(1); expired rows count until HarperDB's sweep removes them). */
  rowCount(): number {
    return entryCount(this.table);
  }

  /** Queues the message's row (written behind; see HISTORY_QUEUE). */
  record(message: BusMessage): void {
    this.behind.add([historyId(message.timestamp, workerIndex, this.sequence++), messageRow(message)]);
  }
}
