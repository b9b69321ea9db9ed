// The outbound cursor (pure): the bus position up to which every matched message is done
// (acknowledged by the remote, or parked in the retry table). Messages are sent in position order
// and acknowledged in any order; the cursor moves to just below the oldest one still unacknowledged.
// As it moves it reports the backlog messages it passed (their count and bytes), for the backlog cap.

/** Called with the backlog messages the cursor just moved past. */
export type Passed = (messages: number, bytes: number) => void;

/** `bytes` of a message sent that is not part of the backlog count (QoS 0 logged by a source). */
export const UNCOUNTED = -1;

export class OutboundCursor {
  /** Positions sent and not yet done, in the order sent (= position order), with their counted bytes. */
  private readonly open = new Map<number, number>();
  /** Positions done while an older one is still open: passed when the cursor gets to them. */
  private readonly finished = new Map<number, number>();

  constructor(
    /** Everything at or below is done. */
    private done: number,
    /** The last position read from the log (sent, or skipped as not matching). */
    private read = done,
    private readonly passed: Passed = () => undefined,
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

  /** A position read from the log; `sent`: it is now waiting for the remote (`bytes` for the backlog count). */
  advanceRead(position: number, sent: boolean, bytes = UNCOUNTED): void {
    if (position <= this.read) return;
    this.read = position;
    if (sent) this.open.set(position, bytes);
    this.settle();
  }

  /** The remote acknowledged it (or it went to the retry table). */
  finish(position: number): void {
    const bytes = this.open.get(position);
    if (bytes === undefined) return;
    this.open.delete(position);
    this.finished.set(position, bytes);
    this.settle();
  }

  /** Forgets what was in flight (a new connection, or a restart): reading goes back to the cursor. */
  rewind(): void {
    this.open.clear();
    this.finished.clear();
    this.read = this.done;
  }

  private settle(): void {
    const oldest = this.open.keys().next();
    this.done = oldest.done ? this.read : oldest.value - 1;
    let messages = 0;
    let bytes = 0;
    for (const [position, size] of this.finished) {
      if (position > this.done) continue;
      this.finished.delete(position);
      if (size === UNCOUNTED) continue;
      messages++;
      bytes += size;
    }
    if (messages > 0) this.passed(messages, bytes);
  }
}
