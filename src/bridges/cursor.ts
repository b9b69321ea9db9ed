// The outbound cursor (pure): the bus position up to which every matched message is done
// (acknowledged by the remote, or parked in the retry table). Messages are sent in position order
// and acknowledged in any order; the cursor moves to just below the oldest one still unacknowledged.
export class OutboundCursor {
  /** Positions sent and not yet done, in the order sent (= position order). */
  private readonly open = new Set<number>();

  constructor(
    /** Everything at or below is done. */
    private done: number,
    /** The last position read from the log (sent, or skipped as not matching). */
    private read = done,
  ) {}

  get position(): number {
    return this.done;
  }

  get readPosition(): number {
    return this.read;
  }

  get inflight(): number {
    return this.open.size;
  }

  /** A position read from the log; `sent`: it is now waiting for the remote. */
  advanceRead(position: number, sent: boolean): void {
    if (position <= this.read) return;
    this.read = position;
    if (sent) this.open.add(position);
    this.settle();
  }

  /** The remote acknowledged it (or it went to the retry table). */
  finish(position: number): void {
    if (this.open.delete(position)) this.settle();
  }

  /** Forgets what was in flight (a new connection, or a restart): reading goes back to the cursor. */
  rewind(): void {
    this.open.clear();
    this.read = this.done;
  }

  private settle(): void {
    const oldest = this.open.values().next();
    this.done = oldest.done ? this.read : oldest.value - 1;
  }
}
