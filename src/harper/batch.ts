// Writes that arrive in the same event-loop turn share one HarperDB transaction (one commit, one
// fsync) instead of one each. HarperDB's `transaction(context, callback)` is a package export it
// assigns at runtime (a global, not a static export); its absence stops the component at start.
type Transaction = (context: object, callback: () => unknown) => Promise<unknown> | unknown;

/**
 * Writes per transaction that keep HarperDB on its optimistic path. A transaction of 100 writes
 * or more (HarperDB's MAX_OPTIMISTIC_SIZE, plus a "retry risk" that grows by 50 per conflict) runs
 * as an exclusive LMDB transaction whose writes are encoded on the JavaScript thread while the
 * database's write lock is held: every other thread's commits (the message log's, before PUBACK)
 * wait for it. Measured (docs/performance.md): QoS 1 retained publishes to a table rule, whose
 * log batches carry a row each, went from 3,837 to 6,021 new topics/s once batches stayed under it.
 * (The history commits 2,000 rows at a time, but in a database of its own: see history.ts.)
 */
export const OPTIMISTIC_WRITES = 40;

export function harperTransaction(): Transaction {
  const transaction = (globalThis as { transaction?: unknown }).transaction;
  if (typeof transaction !== 'function') {
    throw new Error('harper-mqtt-bridge: HarperDB\'s transaction() is not available; this HarperDB version is not supported.');
  }
  return transaction as Transaction;
}

export class WriteBatch<T> {
  private readonly transaction = harperTransaction();
  private pending: T[] = [];
  private committed: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | null = null;

  /**
   * `write` is called with the items of one turn and the transaction's context, to pass as the
   * last argument of each table.put(id, record, context).
   */
  constructor(
    private readonly write: (items: T[], context: object) => void,
    private readonly maxItems = OPTIMISTIC_WRITES,
  ) {}

  /** Resolves once the transaction holding `item` is committed. */
  add(item: T): Promise<void> {
    this.pending.push(item);
    if (!this.committed) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.committed = { promise, resolve, reject };
      setImmediate(() => this.flush());
    }
    const { promise } = this.committed;
    if (this.pending.length >= this.maxItems) this.flush();
    return promise;
  }

  private flush(): void {
    const items = this.pending;
    const done = this.committed;
    if (!done || items.length === 0) return;
    this.pending = [];
    this.committed = null;
    const context = {};
    Promise.resolve()
      .then(() => this.transaction(context, () => this.write(items, context)))
      .then(() => done.resolve(), done.reject);
  }
}

/** Runs `write(context)` in one HarperDB transaction; resolves once it is committed. */
export async function inTransaction(write: (context: object) => void | Promise<void>): Promise<void> {
  const context = {};
  await harperTransaction()(context, () => write(context));
}
