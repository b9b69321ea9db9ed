// Batches routed before their log record is committed (QoS 1 only, see Bus). Subscribers online
// get such a message at once, but whoever reads the message log by position (a replay, a bridge)
// must wait until every batch routed so far is committed, or it would skip the ones still on
// their way. Pure code, no HarperDB.

interface Entry {
  owner: number;
  at: number;
  waiters: Array<() => void>;
}

export class Uncommitted {
  /** Batch start -> the thread committing it, since when, who waits for it. */
  private readonly batches = new Map<number, Entry>();

  get size(): number {
    return this.batches.size;
  }

  /** The batch starting at `start` was routed; `owner` is committing its log record. */
  routed(start: number, owner: number, now = Date.now()): void {
    this.batches.set(start, { owner, at: now, waiters: [] });
  }

  /** The batch's record is committed (or its commit failed: the log will never hold it). */
  settled(start: number): void {
    const entry = this.batches.get(start);
    if (!entry) return;
    this.batches.delete(start);
    for (const wake of entry.waiters) wake();
  }

  /** Resolves once every batch routed until now is settled. */
  all(): Promise<void> {
    if (this.batches.size === 0) return Promise.resolve();
    const pending = [...this.batches.values()].map((entry) => new Promise<void>((resolve) => entry.waiters.push(resolve)));
    return Promise.all(pending).then(() => undefined);
  }

  /**
   * Settles, and returns, the batches nobody will report: their thread died, or it has not
   * reported for `maxWaitMs` (a commit that never returned).
   */
  abandon(isLive: (threadId: number) => boolean, maxWaitMs: number, now = Date.now()): Array<{ start: number; owner: number }> {
    const given: Array<{ start: number; owner: number }> = [];
    for (const [start, entry] of this.batches) {
      if (isLive(entry.owner) && now - entry.at <= maxWaitMs) continue;
      given.push({ start, owner: entry.owner });
    }
    for (const { start } of given) this.settled(start);
    return given;
  }
}

/**
 * Whether a batch may be routed before its log record commits. Only when each of its logged
 * messages is QoS 1 and commits nothing alongside: were the process to die before the commit, a
 * subscriber may have the message and the publisher, never acknowledged, sends it again (QoS 1
 * allows the repeat). QoS 2 promises exactly once, and a write committed alongside (a retained
 * row, a source's position) must be visible when the message is.
 */
export function mayRouteBeforeCommit(batch: ReadonlyArray<{ durable: boolean; message: { qos: number }; commitWith: readonly unknown[] }>): boolean {
  let logged = false;
  for (const { durable, message, commitWith } of batch) {
    if (!durable) continue;
    if (message.qos !== 1 || commitWith.length > 0) return false;
    logged = true;
  }
  return logged;
}
