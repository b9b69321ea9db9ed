import { describe, expect, it } from 'vitest';
import { mayRouteBeforeCommit, Uncommitted } from '../../src/bus/uncommitted.js';

/** Whether `promise` has resolved once pending callbacks ran. */
async function isDone(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('Uncommitted', () => {
  it('lets a reader start at once when nothing is being committed', async () => {
    expect(await isDone(new Uncommitted().all())).toBe(true);
  });

  it('holds a reader until every batch routed before it asked is settled', async () => {
    const uncommitted = new Uncommitted();
    uncommitted.routed(10, 1);
    uncommitted.routed(20, 2);
    const reader = uncommitted.all();
    uncommitted.routed(30, 1); // routed after the reader asked: not waited for
    uncommitted.settled(20);
    expect(await isDone(reader)).toBe(false);
    uncommitted.settled(10);
    expect(await isDone(reader)).toBe(true);
    expect(uncommitted.size).toBe(1);
  });

  it('ignores a settle it does not know (a batch committed before this thread saw it routed)', async () => {
    const uncommitted = new Uncommitted();
    uncommitted.settled(5);
    uncommitted.routed(10, 1);
    uncommitted.settled(10);
    expect(uncommitted.size).toBe(0);
    expect(await isDone(uncommitted.all())).toBe(true);
  });

  it('gives up the batches of a dead thread, and of a live one silent for too long', async () => {
    const uncommitted = new Uncommitted();
    uncommitted.routed(10, 1, 1000);
    uncommitted.routed(20, 2, 1000);
    uncommitted.routed(30, 3, 5000);
    const reader = uncommitted.all();
    const live = (thread: number) => thread !== 2;
    expect(uncommitted.abandon(live, 30_000, 6000)).toEqual([{ start: 20, owner: 2 }]);
    expect(await isDone(reader)).toBe(false);
    expect(uncommitted.abandon(live, 30_000, 31_001)).toEqual([{ start: 10, owner: 1 }]);
    expect(await isDone(reader)).toBe(false);
    expect(uncommitted.abandon(live, 30_000, 35_001)).toEqual([{ start: 30, owner: 3 }]);
    expect(await isDone(reader)).toBe(true);
  });
});

describe('mayRouteBeforeCommit', () => {
  const qos1 = { durable: true, message: { qos: 1 }, commitWith: [] };
  const qos0 = { durable: false, message: { qos: 0 }, commitWith: [] };

  it('routes a batch of QoS 1 messages (and QoS 0 ones among them) before the commit', () => {
    expect(mayRouteBeforeCommit([qos1])).toBe(true);
    expect(mayRouteBeforeCommit([qos0, qos1, qos0])).toBe(true);
  });

  it('commits first when a QoS 2 message is in the batch: exactly once', () => {
    expect(mayRouteBeforeCommit([qos1, { durable: true, message: { qos: 2 }, commitWith: [] }])).toBe(false);
  });

  it('commits first when a write goes with a message (a retained row, a source position)', () => {
    expect(mayRouteBeforeCommit([qos1, { durable: true, message: { qos: 1 }, commitWith: [{}] }])).toBe(false);
    expect(mayRouteBeforeCommit([{ durable: true, message: { qos: 0 }, commitWith: [{}] }])).toBe(false);
  });

  it('commits first a QoS 0 message logged on request (the publish API)', () => {
    expect(mayRouteBeforeCommit([{ durable: true, message: { qos: 0 }, commitWith: [] }])).toBe(false);
  });

  it('has nothing to route early in a batch with nothing to log', () => {
    expect(mayRouteBeforeCommit([qos0, qos0])).toBe(false);
  });
});
