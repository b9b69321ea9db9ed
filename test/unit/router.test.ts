import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/messages.js';
import { MAX_REGROUP_HOPS, Router, type Subscriber, type Subscription } from '../../src/router.js';

class Client implements Subscriber {
  offers: Array<{ payload: string; filters: string[] }> = [];
  evicted = false;
  constructor(
    readonly clientId: string,
    readonly connectionId = clientId + '-1',
  ) {}
  offer(message: BusMessage, _position: number, matching: Subscription[]): void {
    this.offers.push({ payload: message.payload.toString(), filters: matching.map((s) => s.filter).sort() });
  }
  evict(): void {
    this.evicted = true;
  }
}

const subscription = (subscriber: Subscriber, filter: string): Subscription => ({
  subscriber,
  filter,
  qos: 0,
  noLocal: false,
  retainAsPublished: false,
  held: null,
  sentRetained: null,
});

const message = (topic: string, payload: string): BusMessage => ({
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  clientId: 'pub',
  timestamp: 0,
});

describe('Router', () => {
  it('offers a message once per client with every matching subscription', () => {
    const router = new Router();
    const a = new Client('a');
    const b = new Client('b');
    for (const s of [subscription(a, '#'), subscription(a, 'x/+'), subscription(b, 'x/y'), subscription(b, 'other')]) router.add(s);
    router.route(message('x/y', 'm1'), 10);
    expect(a.offers).toEqual([{ payload: 'm1', filters: ['#', 'x/+'] }]);
    expect(b.offers).toEqual([{ payload: 'm1', filters: ['x/y'] }]);
    expect(router.lastPosition).toBe(10);
  });

  it('still offers to the other clients when one of them throws', () => {
    const failures: string[] = [];
    const router = new Router((subscriber) => failures.push(subscriber.clientId));
    const broken = new Client('broken');
    broken.offer = () => {
      throw new Error('boom');
    };
    const a = new Client('a');
    const b = new Client('b');
    for (const s of [subscription(a, 'x'), subscription(broken, 'x'), subscription(b, 'x')]) router.add(s);
    router.route(message('x', 'm'), 1);
    expect(failures).toEqual(['broken']);
    expect([a.offers.length, b.offers.length]).toEqual([1, 1]);
  });

  it('stops offering after a subscription is removed', () => {
    const router = new Router();
    const a = new Client('a');
    const s = subscription(a, 'x/#');
    router.add(s);
    router.remove(s);
    router.route(message('x/y', 'm'), 1);
    expect(a.offers).toEqual([]);
    expect(router.subscriptionCount).toBe(0);
  });

  it('evicts older connections of a client id taken over elsewhere', () => {
    const router = new Router();
    const old = new Client('c', 'conn-1');
    const fresh = new Client('c', 'conn-2');
    router.attach(old);
    router.attach(fresh);
    router.control({ kind: 'takeover', clientId: 'c', connectionId: 'conn-2', cleanStart: false });
    expect(old.evicted).toBe(true);
    expect(fresh.evicted).toBe(false);
  });
});

describe('Router: shared subscription messages handed back to their group', () => {
  class Member implements Subscriber {
    got: Array<{ payload: string; position: number; regrouped: boolean }> = [];
    constructor(readonly clientId: string, readonly connectionId = clientId) {}
    offer(message: BusMessage, position: number, _matching: Subscription[]): void {
      this.got.push({ payload: message.payload.toString(), position, regrouped: message.regroup !== undefined });
    }
    evict(): void {}
  }
  const member = (subscriber: Subscriber, group = 'g', filter = 'a/#'): Subscription => ({ ...subscription(subscriber, `$share/${group}/${filter}`), shared: { group, filter } });

  /** Two threads' routers and the bus between them: what a router publishes is routed on both, in order. */
  function twoThreads() {
    const bus: BusMessage[] = [];
    const dropped: string[] = [];
    const routers = [1, 2].map((thread) => new Router(undefined, thread, (m) => bus.push(m), (m) => dropped.push(`${thread}:${m.payload}`)));
    let position = 100;
    const deliver = () => {
      while (bus.length > 0) {
        const next = bus.shift()!;
        position++;
        for (const router of routers) router.route(next, position);
      }
    };
    const join = (thread: 0 | 1, s: Subscription) => {
      routers[thread]!.add(s);
      bus.push(routers[thread]!.membership(s, true));
      deliver();
    };
    return { bus, dropped, routers, deliver, join };
  }

  it('gives a message chosen for a member that just left (its leave still on the bus) to a member on another thread, at its own position', () => {
    const { bus, dropped, routers, deliver, join } = twoThreads();
    const [a, b, plain] = [new Member('a'), new Member('b'), new Member('plain')];
    const sa = member(a);
    join(0, sa);
    join(1, member(b));
    routers[1]!.add(subscription(plain, 'a/#'));
    // a disconnects on thread 1: out of its routing at once, its leave published after.
    routers[0]!.remove(sa);
    const leave = routers[0]!.membership(sa, false);
    for (const router of routers) router.route(message('a/x', 'm1'), 10); // a's turn
    bus.unshift(leave); // published before thread 1 routed m1, so ahead of the hand-back
    expect(bus.map((m) => m.regroup ?? 'leave')).toEqual(['leave', { group: 'g', filter: 'a/#', position: 10, hops: 1, from: 1 }]);
    deliver();
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([{ payload: 'm1', position: 10, regrouped: true }]);
    expect(plain.got.map((g) => g.payload)).toEqual(['m1']); // once, live: not again with the hand-back
    expect(dropped).toEqual([]);
  });

  it('drops (and counts once) what nobody can take: QoS 0, a group with no members left, too many hand-backs', () => {
    const { bus, dropped, routers, deliver, join } = twoThreads();
    const a = new Member('a');
    const sa = member(a);
    join(0, sa);
    routers[0]!.remove(sa);
    for (const router of routers) router.route({ ...message('a/x', 'qos0'), qos: 0 }, 10);
    expect(bus).toEqual([]);
    for (const router of routers) router.route(message('a/x', 'qos1'), 11);
    bus.unshift(routers[0]!.membership(sa, false));
    deliver(); // the group is gone when the hand-back arrives
    routers[1]!.handBack(message('a/x', 'tired'), { group: 'g', filter: 'a/#', position: 12, hops: MAX_REGROUP_HOPS });
    expect(bus).toEqual([]);
    expect(dropped).toEqual(['1:qos0', '1:qos1', '2:tired']);
  });
});
