// Where each source is in its table's change feed, with its published count: one row per source
// in `mqtt_source_positions`, in the component's database, the same database as the message log
// (`mqtt_log`), so that the row is written in the same transaction as the messages it accounts
// for (see Bus.publish `commitWith`): a crash keeps both or neither.
import { ensureTable, type HarperTable } from '../harper/tables.js';
import type { CommitWrite } from '../bus/log.js';

export const POSITIONS_TABLE = 'mqtt_source_positions';

export interface SourcePosition {
  id: string;
  /** Audit-log key of the last change handled: every change up to it is published (or filtered out). */
  position: number;
  /** Commit time of the last change published. */
  changeTime: number;
  /** Messages published since the source was added. */
  published: number;
  /** Changes that made no message because of a problem (a template field missing, say). */
  skipped: number;
  updatedAt: number;
}

export class Positions {
  private constructor(private readonly table: HarperTable<SourcePosition>) {}

  static async open(database: string): Promise<Positions> {
    const table = await ensureTable<SourcePosition>({
      database,
      table: POSITIONS_TABLE,
      attributes: [
        { name: 'id', type: 'String', isPrimaryKey: true },
        { name: 'position', type: 'Float' },
        { name: 'changeTime', type: 'Float' },
        { name: 'published', type: 'Float' },
        { name: 'skipped', type: 'Float' },
        { name: 'updatedAt', type: 'Float' },
      ],
      audit: false, // written with every batch of messages; nobody follows it
    });
    return new Positions(table);
  }

  /** Memory shared by every thread (leases and status of sources) lives in this table's environment. */
  get sharedTable(): HarperTable<object> {
    return this.table as unknown as HarperTable<object>;
  }

  async read(name: string): Promise<SourcePosition | undefined> {
    const row = await this.table.get(name);
    if (!row) return undefined;
    // Read field by field: a stored record keeps its fields behind getters.
    return { id: name, position: row.position, changeTime: row.changeTime ?? 0, published: row.published ?? 0, skipped: row.skipped ?? 0, updatedAt: row.updatedAt ?? 0 };
  }

  /** A write to join the transaction of the messages it accounts for, as long as `valid()` (the lease is held). */
  commitWith(state: SourcePosition, valid: () => boolean): CommitWrite {
    return { key: `source:${state.id}`, write: (context) => void this.table.put(state.id, state, context), valid };
  }

  save(state: SourcePosition): Promise<unknown> {
    return this.table.put(state.id, state);
  }

  /** Removes the rows of sources not in `keep`; resolves to how many. */
  async forgetAllBut(keep: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for await (const row of this.table.search({})) {
      if (keep.has(String(row.id))) continue;
      await this.table.delete(String(row.id));
      removed++;
    }
    return removed;
  }
}
