// Writes nobody waits for (history rows): queued, and written in the background. While the thread
// is busy (its event loop over BUSY_UTILIZATION) they wait, up to `soft` queued items, so that a
// burst of messages is routed first and recorded right after; past `soft` they are written anyway,
// and past `hard` the queue reports itself full (publishers are then slowed down, see Overload).
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { inTransaction, OPTIMISTIC_WRITES } from './batch.js';

const BUSY_UTILIZATION = 0.8;
/** Items written between two yields to the event loop (a multiple of OPTIMISTIC_WRITES). */
const SLICE = OPTIMISTIC_WRITES * 6;

export interface WriteBehindLimits {
  /** Queued items past which writing goes on even while the thread is busy. */
  soft: number;
  /** Queued items past which the queue is full. */
  hard: number;
  /** Items written per tick (in transactions of at most OPTIMISTIC_WRITES items). */
  perTick: number;
  intervalMs: number;
}

export class WriteBehind<T> {
  private queue: T[] = [];
  private head = 0;
  private writing = false;
  private utilization: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(
    private readonly write: (items: T[], context: object) => void,
    private readonly limits: WriteBehindLimits,
    private readonly onError: (error: unknown, items: number) => void,
  ) {
    setInterval(() => void this.tick(), limits.intervalMs).unref();
  }

  add(item: T): void {
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
    const busy = performance.eventLoopUtilization(now, this.utilization).utilization > BUSY_UTILIZATION;
    this.utilization = now;
    if (this.writing || this.backlog === 0 || (busy && this.backlog < this.limits.soft)) return;
    this.writing = true;
    const items = this.queue.slice(this.head, this.head + this.limits.perTick);
    this.head += items.length;
    if (this.head > 10_000 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    try {
      // Small transactions (see OPTIMISTIC_WRITES), in slices that yield to the event loop.
      const commits: Array<Promise<void>> = [];
      for (let from = 0; from < items.length; from += OPTIMISTIC_WRITES) {
        if (from > 0 && from % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
        const chunk = items.slice(from, from + OPTIMISTIC_WRITES);
        commits.push(inTransaction((context) => this.write(chunk, context)).catch((error) => this.onError(error, chunk.length)));
      }
      await Promise.all(commits);
    } finally {
      this.writing = false;
    }
  }
}
