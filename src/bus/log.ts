// The message log: the QoS 1/2 messages of each batch (the messages one thread accepted in one
// event-loop turn), as one record keyed by the batch's first sequence number, kept `ttl` seconds.
// It is what makes an acknowledged message durable (the record is committed before the PUBACKs go
// out) and what persistent sessions and slow clients read back. One write per batch, no index.
import { inTransaction } from '../harper/batch.js';
import { ensureTable, type HarperTable } from '../harper/tables.js';
import { readBusMessage, type BusMessage } from '../messages.js';

export const LOG_TABLE = 'mqtt_log';

/** A batch is at most this many sequence numbers (see Bus), so a record covering `seq` starts at most this far before it. */
export const MAX_BATCH = 1000;

/**
 * A write committed in the same transaction as the log record of the batch holding its message
 * (a source's position in its change feed): both are committed, or neither. Writes with the same
 * key in one batch are written once, the last one. The table must be in the log's database.
 */
export interface CommitWrite {
  key: string;
  write(context: object): void;
  /** Checked just before the batch is written: false drops the message (and this write) from it. */
  valid?(): boolean;
}

interface LogRecord {
  id: number;
  /** Sequence numbers of the messages, in order (the batch's others were QoS 0, or refused). */
  seqs: number[];
  messages: BusMessage[];
}

export class MessageLog {
  private constructor(readonly table: HarperTable<LogRecord>) {}

  static async open(database: string, ttlSeconds: number): Promise<MessageLog> {
    const table = await ensureTable<LogRecord>({
      database,
      table: LOG_TABLE,
      attributes: [
        { name: 'id', type: 'Float', isPrimaryKey: true },
        { name: 'seqs' },
        { name: 'messages' },
      ],
      expiration: ttlSeconds,
      audit: false,
    });
    // The table keeps the expiration it was created with; apply the configured one on each start.
    table.setTTLExpiration(ttlSeconds);
    return new MessageLog(table);
  }

  /** Writes one batch's logged messages as one record, with `alongside` in its transaction; resolves once committed. */
  append(batchStart: number, entries: ReadonlyArray<readonly [number, BusMessage]>, alongside: readonly CommitWrite[] = []): Promise<unknown> {
    const record: LogRecord = { id: batchStart, seqs: entries.map(([seq]) => seq), messages: entries.map(([, message]) => message) };
    if (alongside.length === 0) return this.table.put(batchStart as unknown as string, record);
    const last = new Map(alongside.map((write) => [write.key, write]));
    return inTransaction((context) => {
      void this.table.put(batchStart as unknown as string, record, context);
      for (const write of last.values()) write.write(context);
    });
  }

  /** Logged messages with a sequence number above `after`, in order. */
  async *since(after: number): AsyncIterable<{ seq: number; message: BusMessage }> {
    const query = { conditions: [{ attribute: 'id', comparator: 'greater_than', value: after - MAX_BATCH }] };
    for await (const record of this.table.search(query)) yield* entries(record, after, Infinity);
  }

  /** Logged messages from `from` up to (not including) `to`, by sequence number. */
  async range(from: number, to: number): Promise<Map<number, BusMessage>> {
    const found = new Map<number, BusMessage>();
    const query = { conditions: [{ attribute: 'id', comparator: 'between', value: [from - MAX_BATCH, to - 1] }] };
    for await (const record of this.table.search(query)) for (const { seq, message } of entries(record, from - 1, to)) found.set(seq, message);
    return found;
  }
}

/** The messages of a record with after < seq < before, rebuilt as plain messages. */
function* entries(record: LogRecord, after: number, before: number): Iterable<{ seq: number; message: BusMessage }> {
  const { seqs, messages } = record;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]!;
    if (seq > after && seq < before) yield { seq, message: readBusMessage(messages[i]!) };
  }
}
