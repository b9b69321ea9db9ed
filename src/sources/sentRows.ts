// Seed 002's tracking table, for the sources that ask for it (`track: true`): per source row, its
// last published change (topic, change id, when), one row per source row (not per message),
// written in the transaction of the message itself and expiring like the history. Sources that do
// not ask write nothing: `/mqtt_sent/` answers from the audit log and the history instead.
import { ensureTable, type HarperTable } from '../harper/tables.js';
import type { CommitWrite } from '../bus/log.js';

export const SENT_TABLE = 'mqtt_source_sent';

export interface SentRow {
  /** `<source>/<row key>` */
  id: string;
  source: string;
  rowId: string;
  topic: string;
  changeId: string;
  changedAt: Date;
  sentAt: Date;
}

export class SentRows {
  private constructor(private readonly table: HarperTable<SentRow>) {}

  /** `ttlSeconds`: how long a row is kept after its last message. */
  static async open(database: string, ttlSeconds: number): Promise<SentRows> {
    const table = await ensureTable<SentRow>({
      database,
      table: SENT_TABLE,
      attributes: [
        { name: 'id', type: 'String', isPrimaryKey: true },
        { name: 'source', type: 'String' },
        { name: 'rowId', type: 'String' },
        { name: 'topic', type: 'String' },
        { name: 'changeId', type: 'String' },
        { name: 'changedAt', type: 'Date' },
        { name: 'sentAt', type: 'Date' },
      ],
      expiration: ttlSeconds,
      audit: false,
    });
    table.setTTLExpiration(ttlSeconds);
    return new SentRows(table);
  }

  /** The write recording `rowId`'s message, to commit with it. */
  commitWith(source: string, rowId: unknown, message: { topic: string; changeId: string; changedAt: number }, valid: () => boolean): CommitWrite {
    const id = `${source}/${String(rowId)}`;
    return {
      key: `sent:${id}`,
      write: (context) => void this.table.put(id, { id, source, rowId: String(rowId), topic: message.topic, changeId: message.changeId, changedAt: new Date(message.changedAt), sentAt: new Date() }, context),
      valid,
    };
  }

  async read(source: string, rowId: unknown): Promise<Pick<SentRow, 'topic' | 'changeId' | 'sentAt'> | undefined> {
    const row = await this.table.get(`${source}/${String(rowId)}`);
    // Field by field: a stored record keeps its fields behind getters.
    return row ? { topic: row.topic, changeId: row.changeId, sentAt: row.sentAt } : undefined;
  }
}
