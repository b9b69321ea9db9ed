// Batches of messages arrive from several worker threads, each numbered with consecutive global
// sequence numbers; every thread must route them in one order, the sequence order. A batch that
// arrives early waits for the ones before it. Pure code, no HarperDB.

export interface Batch<T> {
  /** Sequence number of the first item. */
  start: number;
  /** One entry per sequence number; null for a number whose message was not accepted. */
  items: Array<T | null>;
}

export class ReorderBuffer<T> {
  private readonly waiting = new Map<number, Batch<T>>();
  /** When the oldest waiting batch arrived (a gap is in front of it), or null. */
  private blockedSince: number | null = null;

  /** `next`: the first sequence number this thread routes. */
  constructor(
    private next: number,
    private readonly deliver: (seq: number, item: T) => void,
  ) {}

  /** The next sequence number to route: everything below it has been. */
  get position(): number {
    return this.next;
  }

  /** Batches waiting for an earlier one. */
  get backlog(): number {
    return this.waiting.size;
  }

  add(batch: Batch<T>, now = Date.now()): void {
    const end = batch.start + batch.items.length;
    if (end <= this.next) return; // all routed already (a thread that joined late)
    this.waiting.set(batch.start, batch);
    this.drain();
    if (this.waiting.size > 0) this.blockedSince ??= now;
  }

  /**
   * The gap in front of the waiting batches, when it has been there for `maxWaitMs`: the range of
   * sequence numbers [from, to) to fill from elsewhere (the log), or null.
   */
  staleGap(maxWaitMs: number, now = Date.now()): { from: number; to: number } | null {
    if (this.blockedSince === null || now - this.blockedSince < maxWaitMs) return null;
    return { from: this.next, to: Math.min(...this.waiting.keys()) };
  }

  /** Gives up waiting for sequence numbers below `seq` (what could be recovered was added before). */
  skipTo(seq: number): void {
    if (seq > this.next) this.next = seq;
    this.blockedSince = null;
    this.drain();
    if (this.waiting.size > 0) this.blockedSince = Date.now();
  }

  private drain(): void {
    for (;;) {
      // A batch may start below `next` when part of it was skipped or filled in already.
      let batch: Batch<T> | undefined;
      for (const [start, candidate] of this.waiting) {
        if (start <= this.next) {
          batch = candidate;
          this.waiting.delete(start);
          break;
        }
      }
      if (!batch) return;
      const end = batch.start + batch.items.length;
      for (let seq = this.next; seq < end; seq++) {
        const item = batch.items[seq - batch.start];
        if (item !== null && item !== undefined) this.deliver(seq, item);
      }
      if (end > this.next) this.next = end;
      if (this.waiting.size === 0) this.blockedSince = null;
    }
  }
}
