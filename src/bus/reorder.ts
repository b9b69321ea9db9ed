// Batches of messages arrive from several worker threads, each numbered with consecutive global
// sequence numbers; every thread must route them in one order, the sequence order. A batch that
// arrives early waits for the ones before it. A thread announces the numbers it took (a
// reservation) before it commits their batch, so the others know who they are waiting for: a range
// is given up (read from the log instead) only when its thread died. Pure code, no HarperDB.

export interface Batch<T> {
  /** Sequence number of the first item. */
  start: number;
  /** One entry per sequence number; null for a number whose message was not accepted. */
  items: Array<T | null>;
}

export interface Reservation {
  start: number;
  count: number;
  /** The thread that took the numbers (node's threadId). */
  owner: number;
}

/** The numbers routing waits for: who took them (null: not announced yet), since when. */
export interface Stall {
  from: number;
  to: number;
  owner: number | null;
  sinceMs: number;
}

export class ReorderBuffer<T> {
  private readonly waiting = new Map<number, Batch<T>>();
  private readonly reserved = new Map<number, Reservation & { at: number }>();
  /** When routing last had to stop for a number, or null while nothing waits. */
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

  reserve(reservation: Reservation, now = Date.now()): void {
    if (reservation.start + reservation.count <= this.next) return;
    this.reserved.set(reservation.start, { ...reservation, at: now });
  }

  add(batch: Batch<T>, now = Date.now()): void {
    this.reserved.delete(batch.start);
    const end = batch.start + batch.items.length;
    if (end <= this.next) return; // all routed already (a thread that joined late)
    this.waiting.set(batch.start, batch);
    this.drain();
    if (this.waiting.size > 0) this.blockedSince ??= now;
  }

  /** What routing is waiting for, when something is waiting: the missing range and its owner. */
  stall(now = Date.now()): Stall | null {
    if (this.blockedSince === null) return null;
    const to = Math.min(...this.waiting.keys());
    const reservation = this.reserved.get(this.next);
    if (reservation) return { from: this.next, to: Math.min(to, reservation.start + reservation.count), owner: reservation.owner, sinceMs: now - reservation.at };
    return { from: this.next, to, owner: null, sinceMs: now - this.blockedSince };
  }

  private drain(): void {
    for (;;) {
      // A batch may start below `next` when part of it was filled in from the log already.
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
      this.blockedSince = this.waiting.size > 0 ? Date.now() : null;
    }
  }
}
