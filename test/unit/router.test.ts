import { describe, expect, it } from 'vitest';
import type { BusMessage } from '../../src/messages.js';
import { Router, type Subscriber, type Subscription } from '../../src/router.js';

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
