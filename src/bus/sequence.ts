// Global sequence numbers for messages, from one counter in memory shared by every worker thread of
// the process (Atomics on a shared buffer). The counter starts from the clock in microseconds, so
// numbers keep growing across restarts without being stored: persistent sessions remember them.
// Pure code over a SharedArrayBuffer-backed array, no HarperDB.

export class Sequence {
  /** `shared`: one 64-bit slot that every thread of the process sees. */
  constructor(private readonly shared: BigInt64Array) {}

  /** Moves the counter up to `now` (in microseconds) if it is behind: the first thread of a process does it. */
  seed(nowMs = Date.now()): void {
    const seed = BigInt(Math.floor(nowMs)) * 1000n;
    for (;;) {
      const current = Atomics.load(this.shared, 0);
      if (current >= seed || Atomics.compareExchange(this.shared, 0, current, seed) === current) return;
    }
  }

  /** Takes `count` consecutive numbers; returns the first. */
  allocate(count: number): number {
    return Number(Atomics.add(this.shared, 0, BigInt(count)));
  }

  /** The next number to be taken. */
  peek(): number {
    return Number(Atomics.load(this.shared, 0));
  }
}
