// Counting a table's rows exactly, without holding the thread: entry counts from LMDB's stats
// include the entries deleted rows leave behind for a while, so the rows are read. No HarperDB
// import here (the store is passed in), so it is unit-tested.
import type { TableStore } from './tables.js';

type StoreOf = { primaryStore: Pick<TableStore<unknown>, 'getRange'> };

/** Entries a row count reads per event-loop turn (each table counts as one more): about a millisecond. */
const COUNT_SLICE = 256;

/**
 * Exact count of the rows of `tables`: a scan of their entries, skipping those of deleted rows,
 * in slices that let the event loop run between them. In one piece, 3,000 retained rows held a
 * worker thread for 10-30 ms at every `$SYS` refresh, and every delivery on it waited as long.
 */
export async function rowCount(tables: Iterable<StoreOf>): Promise<number> {
  let rows = 0;
  let budget = COUNT_SLICE;
  const pause = async () => {
    budget = COUNT_SLICE;
    await new Promise((resolve) => setImmediate(resolve));
  };
  for (const table of tables) {
    let after: unknown = undefined; // the last key counted, when a slice ended inside this table
    for (;;) {
      let sliceEnded = false;
      for (const { key, value } of table.primaryStore.getRange?.({ start: after ?? true, lazy: true, snapshot: false }) ?? []) {
        if (after !== undefined && key === after) continue;
        if (value != null) rows++;
        after = key;
        if (--budget <= 0) {
          sliceEnded = true;
          break;
        }
      }
      if (!sliceEnded) break;
      await pause();
    }
    if (--budget <= 0) await pause();
  }
  return rows;
}
