// Global sequence numbers for messages, from one counter in memory shared by every worker thread of
// the process (Atomics on a shared buffer). The counter starts from the clock in microseconds, so
// numbers keep growing across restarts without being stored: persistent sessions remember them.
// Pure code over a SharedArrayBuffer-backed array, no HarperDB.

export class Sequence {
  /** `shared`: one 64-bit slot that every thread of the process sees. */
  constructor(private readonly shared: BigInt64Array) {}

  /**
   * Starts a new process's counter at `now` in microseconds. Only the first thread of a process
   * does it (the counter is still 0); later threads, also restarted ones, go on from where it is.
   */
  seed(nowMs = Date.now()): void {
    Atomics.compareExchange(this.shared, 0, 0n, BigInt(Math.floor(nowMs)) * 1000n);
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
