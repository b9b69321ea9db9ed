// The message history: every accepted message, retained or not, for REST queries like "the last
// 10 messages of a topic" or "everything between 10:00 and 11:00". Messages are stored in batch
// records (batches.ts) and read back one row per message (reader.ts, view.ts). Batches expire
// after `historyTtl` seconds.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { WriteBehind } from '../harper/writeBehind.js';
import { ensureTable, openTable, type HarperTable } from '../harper/tables.js';
import { workerIndex } from '../harper/thread.js';
import type { BusMessage } from '../messages.js';
import { batchesOf, type BatchRecord, type Recorded } from './batches.js';
import { HistoryReader } from './reader.js';
import type { RequestAccessOptions } from '../devices/requestAccess.js';
import { historyView } from './view.js';

/** The REST path of the history (one row per message). */
export const HISTORY_TABLE = 'mqtt_history';
/** The table that stores it (one record per batch of messages). */
export const HISTORY_BATCHES_TABLE = 'mqtt_history_batches';

/**
 * The history has a database of its own: each database is one LMDB environment with one write
 * lock, and a history commit holds it while HarperDB encodes the records. In the database of the
 * message log, the other thread's log commits (before PUBACK) waited behind it.
 */
export const historyDatabaseOf = (database: string): string => `${database}_history`;

/**
 * Messages are recorded behind the publish path: during a burst they wait (up to 50,000 per
 * thread) and are written as soon as the thread has time; past 200,000 publishers are slowed.
 * Acknowledged QoS 1/2 messages do not depend on it: they are durable in the message log.
 * While messages keep coming, a commit takes up to 10,000 of them and waits up to a second to
 * gather them: each commit rewrites the index page of every topic it touches, and with 1,000 busy
 * topics commits of 20 ms wrote about 15 KB per message, commits of up to 10,000 1.6-4.6 KB
 * (docs/performance.md). After 50 ms without a message, what is queued is written at once.
 */
const HISTORY_QUEUE = { soft: 50_000, hard: 200_000, perCommit: 10_000, gatherMs: 1000, quietMs: 50, intervalMs: 20 };
const ERROR_LOG_INTERVAL_MS = 60_000;

/** The history kept in `historyDatabase` (see historyDatabaseOf), for reading, when it exists. */
export function openHistory(historyDatabase: string): HistoryReader | null {
  const table = openTable<BatchRecord>(historyDatabase, HISTORY_BATCHES_TABLE);
  return table ? new HistoryReader(table) : null;
}

export class History extends HistoryReader {
  private sequence = 0;
  private readonly behind: WriteBehind<Recorded>;
  private lastErrorLogged = 0;

  private constructor(table: HarperTable<BatchRecord>) {
    super(table);
    this.behind = new WriteBehind<Recorded>(
      (items, context) => {
        for (const batch of batchesOf(items, workerIndex)) void table.put(batch.id, batch, context);
      },
      HISTORY_QUEUE,
      (error, messages) => {
        if (Date.now() - this.lastErrorLogged < ERROR_LOG_INTERVAL_MS) return;
        this.lastErrorLogged = Date.now();
        log.error(`could not write ${messages} messages to the history (further errors within a minute are not logged)`, error);
      },
    );
  }

  /** Past its limit, the queue asks for publishers to be slowed down. */
  get full(): boolean {
    return this.behind.full;
  }

  /** Messages of this thread not written yet (written behind bursts). */
  get pending(): number {
    return this.behind.backlog;
  }

  /** Opens the history of the component's `database` (kept in historyDatabaseOf(database)). */
  static async open(database: string, ttlSeconds: number, access: RequestAccessOptions): Promise<History> {
    const table = await ensureTable<BatchRecord>({
      database: historyDatabaseOf(database),
      table: HISTORY_BATCHES_TABLE,
      attributes: [
        // `<first message id>.<count>`; ids start with the time, so time conditions are key ranges.
        { name: 'id', isPrimaryKey: true },
        { name: 'topics', indexed: true },
        { name: 'messages' },
      ],
      expiration: ttlSeconds,
      audit: false,
    });
    // The table keeps the expiration it was created with; apply the configured one on each start.
    table.setTTLExpiration(ttlSeconds);
    const history = new History(table);
    server.resources.set(HISTORY_TABLE, historyView(history, table, access), { rest: true, mqtt: false });
    return history;
  }

  /** Queues the message for the history (written behind; see HISTORY_QUEUE). */
  record(message: BusMessage): void {
    this.behind.add({ sequence: this.sequence++, message });
  }
}
