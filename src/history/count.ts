// Messages kept in the history, counted from the batch keys (`<first id>.<count>`) without reading
// the records. Counts are kept per minute of the batches' first messages: batches expire oldest
// first, so when the oldest batch kept is in a later minute, the minutes before it are gone.
import { parseBatchKey } from './batches.js';
import { idTime } from './ids.js';

const MINUTE_MS = 60_000;

export class BatchCount {
  private readonly byMinute = new Map<number, number>();
  private sum = 0;
  /** The newest key counted: the next count reads only keys after it. */
  newest: string | null = null;

  get total(): number {
    return this.sum;
  }

  /** Counts a batch key read after `newest`, in key order. */
  add(key: string): void {
    this.newest = key;
    const parsed = parseBatchKey(key);
    if (!parsed) return;
    const minute = Math.floor(idTime(key) / MINUTE_MS);
    this.byMinute.set(minute, (this.byMinute.get(minute) ?? 0) + parsed.count);
    this.sum += parsed.count;
  }

  /**
   * Forgets the minutes before the one of `oldest`, the oldest key still kept (null: none is).
   * Batches of that minute that expired already still count until the minute is gone.
   */
  keptFrom(oldest: string | null): void {
    const first = oldest === null ? Infinity : Math.floor(idTime(oldest) / MINUTE_MS);
    for (const [minute, count] of this.byMinute) {
      if (minute >= first) continue;
      this.byMinute.delete(minute);
      this.sum -= count;
    }
  }
}
