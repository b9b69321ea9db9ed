// Writes nobody waits for (history rows): queued, and written in the background, a commit's worth
// at a time (see `gatherMs`). While the thread is busy (its event loop over BUSY_UTILIZATION,
// averaged over about 200 ms) they wait, up to `soft` queued items, so that a burst of messages is
// routed first and recorded right after; past `soft` they are written anyway, and past `hard` the
// queue reports itself full (publishers are then slowed down, see Overload).
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { inTransaction } from './batch.js';

const BUSY_UTILIZATION = 0.8;
/**
 * Weight of the last tick in the average. A busy thread's loop still has idle ticks (waiting on a
 * commit): measured per 20 ms tick, one such dip started a 2,000-row commit in the middle of a burst.
 */
const SMOOTHING = 0.1;
const SLICE = 250;

export interface WriteBehindLimits {
  /** Queued items past which writing goes on even while the thread is busy. */
  soft: number;
  /** Queued items past which the queue is full. */
  hard: number;
  /** Items per transaction. */
  perCommit: number;
  /**
   * While items keep coming, they wait until `perCommit` of them are queued or the first has
   * waited this long: a commit rewrites every index page it touches, so many small commits
   * multiply the bytes written.
   */
  gatherMs: number;
  /** No item added for this long: the flow has paused, what is queued is written (without waiting for gatherMs). */
  quietMs: number;
  intervalMs: number;
}

export class WriteBehind<T> {
  private queue: T[] = [];
  private head = 0;
  private writing = false;
  private utilization: EventLoopUtilization = performance.eventLoopUtilization();
  private averageUtilization = 0;
  /** When the oldest queued item was queued, and the newest (performance.now()). */
  private waitingSince = 0;
  private lastAdded = 0;

  constructor(
    private readonly write: (items: T[], context: object) => void,
    private readonly limits: WriteBehindLimits,
    private readonly onError: (error: unknown, items: number) => void,
  ) {
    setInterval(() => void this.tick(), limits.intervalMs).unref();
  }

  add(item: T): void {
    this.lastAdded = performance.now();
    if (this.backlog === 0) this.waitingSince = this.lastAdded;
    this.queue.push(item);
  }

  get backlog(): number {
    return this.queue.length - this.head;
  }

  get full(): boolean {
    return this.backlog >= this.limits.hard;
  }

  private async tick(): Promise<void> {
    const now = performance.eventLoopUtilization();
    // The queue's own commits count too: a backlog then drains at about half speed while the thread
    // is idle, but a burst that starts during a drain is seen (leaving them out, back-to-back A/B
    // runs measured history on/off at 0.79 and 0.84 against 0.87 and 0.89: the drain went on
    // through the next burst).
    this.averageUtilization = smoothed(this.averageUtilization, performance.eventLoopUtilization(now, this.utilization).utilization);
    this.utilization = now;
    const busy = this.averageUtilization > BUSY_UTILIZATION;
    const at = performance.now();
    if (this.writing || !gathered(this.backlog, at - this.waitingSince, at - this.lastAdded, this.limits) || (busy && this.backlog < this.limits.soft)) return;
    this.writing = true;
    const items = this.queue.slice(this.head, this.head + this.limits.perCommit);
    this.head += items.length;
    if (this.head > 10_000 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    try {
      // One transaction, written in slices that yield to the event loop between them.
      await inTransaction(async (context) => {
        for (let from = 0; from < items.length; from += SLICE) {
          if (from > 0) await new Promise((resolve) => setImmediate(resolve));
          this.write(items.slice(from, from + SLICE), context);
        }
      });
    } catch (error) {
      this.onError(error, items.length);
    } finally {
      this.writing = false;
    }
  }
}

/**
 * Whether what is queued is ready for a commit: a full commit's worth, or the oldest has waited
 * `gatherMs`, or nothing came for `quietMs` (a single message is in the history at once).
 */
export function gathered(backlog: number, waitedMs: number, quietForMs: number, limits: Pick<WriteBehindLimits, 'perCommit' | 'gatherMs' | 'quietMs'>): boolean {
  return backlog > 0 && (backlog >= limits.perCommit || waitedMs >= limits.gatherMs || quietForMs >= limits.quietMs);
}

/** Exponential moving average of the event loop's utilization, one tick at a time. */
export function smoothed(average: number, tick: number): number {
  return average + SMOOTHING * (tick - average);
}
