// HarperDB accepts connections on every worker thread as soon as components are loaded, but each
// thread loads its tables after that. A CONNECT that arrives in between waits for this thread's
// services (a bounded time) instead of being refused: right after a restart, clients that
// reconnect at once would otherwise be turned away by whichever thread is a moment behind.

/** A value that arrives once (or never, if start-up failed); readers may wait for it a bounded time. */
export class StartupGate<T> {
  private current: T | undefined;
  private failed = false;
  private readonly waiters = new Set<() => void>();

  /** The value, if it has arrived. */
  get value(): T | undefined {
    return this.current;
  }

  open(value: T): void {
    this.current = value;
    this.wake();
  }

  /** Start-up failed: waiters get undefined now rather than at their deadline. */
  fail(): void {
    this.failed = true;
    this.wake();
  }

  get hasFailed(): boolean {
    return this.failed;
  }

  /** The value once it arrives, or undefined after `ms` (or at once if start-up failed). */
  within(ms: number): Promise<T | undefined> {
    if (this.current !== undefined || this.failed) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.current);
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wake(): void {
    for (const done of [...this.waiters]) done();
  }
}
