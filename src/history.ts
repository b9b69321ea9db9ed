// The message history table: every accepted message, retained or not, for REST queries like
// "the last 10 messages of a topic" or "everything between 10:00 and 11:00". Rows expire
// after `historyTtl` seconds.
import { server } from 'harperdb';
import { readOnlyView } from './harper/restView.js';
import { WriteBatch } from './harper/batch.js';
import { ensureTable, entryCount, type HarperTable } from './harper/tables.js';
import { workerIndex } from './harper/thread.js';
import { historyId } from './historyId.js';
import { messageRow, READABLE_FIELDS, type BusMessage, type MessageRow } from './messages.js';

export const HISTORY_TABLE = 'mqtt_history';

export class History {
  private sequence = 0;
  /** Rows of one event-loop turn are written in one transaction. */
  private readonly batch: WriteBatch<[string, MessageRow]>;

  private constructor(private readonly table: HarperTable<MessageRow>) {
    this.batch = new WriteBatch((rows, context) => {
      for (const [id, row] of rows) void table.put(id, row, context);
    });
  }

  static async open(database: string, ttlSeconds: number): Promise<History> {
    const table = await ensureTable<MessageRow>({
      database,
      table: HISTORY_TABLE,
      attributes: [
        { name: 'id', isPrimaryKey: true },
        { name: 'topic', type: 'String', indexed: true },
        { name: 'timestamp', type: 'Date', indexed: true },
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
    server.resources.set(HISTORY_TABLE, readOnlyView(table, READABLE_FIELDS), { rest: true, mqtt: false });
    return new History(table);
  }

  /** Rows kept, approximately (O(1); expired rows count until HarperDB's sweep removes them). */
  rowCount(): number {
    return entryCount(this.table);
  }

  /** Resolves once the row is committed. */
  record(message: BusMessage): Promise<unknown> {
    return this.batch.add([historyId(message.timestamp, workerIndex, this.sequence++), messageRow(message)]);
  }
}
