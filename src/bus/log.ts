// The message log: every QoS 1/2 message, by its sequence number, kept `ttl` seconds. It is what
// makes an acknowledged message durable (a batch's entries are committed before the PUBACKs go out)
// and what persistent sessions and slow clients read back. One write per message, no index.
import { inTransaction } from '../harper/batch.js';
import { ensureTable, entryCount, type HarperTable } from '../harper/tables.js';
import { readBusMessage, type BusMessage } from '../messages.js';

export const LOG_TABLE = 'mqtt_log';

type LogRecord = BusMessage & { id: number };

export class MessageLog {
  private constructor(readonly table: HarperTable<LogRecord>) {}

  static async open(database: string, ttlSeconds: number): Promise<MessageLog> {
    const table = await ensureTable<LogRecord>({
      database,
      table: LOG_TABLE,
      attributes: [
        { name: 'id', type: 'Float', isPrimaryKey: true },
        { name: 'topic', type: 'String' },
        { name: 'payload', type: 'Bytes' },
        { name: 'qos', type: 'Int' },
        { name: 'retain', type: 'Boolean' },
        { name: 'clientId', type: 'String' },
        { name: 'timestamp', type: 'Float' },
        { name: 'properties' },
      ],
      expiration: ttlSeconds,
      audit: false,
    });
    // The table keeps the expiration it was created with; apply the configured one on each start.
    table.setTTLExpiration(ttlSeconds);
    return new MessageLog(table);
  }

  /** Writes the entries in one transaction; resolves once committed. */
  append(entries: ReadonlyArray<readonly [number, BusMessage]>): Promise<void> {
    return inTransaction((context) => {
      for (const [seq, message] of entries) void this.table.put(seq as unknown as string, { ...message, id: seq }, context);
    });
  }

  /** Entries with a sequence number above `after`, in order. */
  async *since(after: number): AsyncIterable<{ seq: number; message: BusMessage }> {
    const query = { conditions: [{ attribute: 'id', comparator: 'greater_than', value: after }] };
    for await (const record of this.table.search(query)) yield { seq: record.id, message: readBusMessage(record) };
  }

  /** Entries from `from` up to (not including) `to`, by sequence number. */
  async range(from: number, to: number): Promise<Map<number, BusMessage>> {
    const found = new Map<number, BusMessage>();
    const query = { conditions: [{ attribute: 'id', comparator: 'between', value: [from, to - 1] }] };
    for await (const record of this.table.search(query)) found.set(record.id, readBusMessage(record));
    return found;
  }

  /** Entries kept, approximately (O(1)). */
  size(): number {
    return entryCount(this.table);
  }
}
