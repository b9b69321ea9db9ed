import { describe, expect, it } from 'vitest';
import { ABANDONED_MS, Counters, LIVE_MS, MAX_SLOTS, SHARED_BYTES, SharedCountersError } from '../../src/stats/counters.js';

// Worker threads are modelled as Counters objects attached to one buffer with different owners;
// the integration tests check the real thing across HarperDB's threads.
const T0 = 1_000_000;

function attached(buffer: ArrayBuffer, owner: number, now = T0): Counters {
  const counters = new Counters();
  counters.attach(buffer, owner, now);
  return counters;
}

describe('Counters', () => {
  it('counts locally before attaching and keeps those counts when it attaches', () => {
    const counters = new Counters();
    counters.add('connectsTotal', 3);
    expect(counters.total('connectsTotal')).toBe(3);
    counters.attach(new SharedArrayBuffer(SHARED_BYTES) as unknown as ArrayBuffer, 1, T0);
    counters.add('connectsTotal');
    expect(counters.total('connectsTotal', T0)).toBe(4);
  });

  it('adds up the slots of all threads: totals, live gauges and the peak', () => {
    const buffer = new ArrayBuffer(SHARED_BYTES);
    const a = attached(buffer, 1);
    const b = attached(buffer, 2);
    a.add('clientsConnected', 2);
    a.notePeak(T0);
    b.add('clientsConnected', 3);
    b.notePeak(T0);
    a.add('bytesReceived', 100);
    b.add('bytesReceived', 50);
    expect(a.total('bytesReceived', T0)).toBe(150);
    expect(b.total('clientsConnected', T0)).toBe(5);
    expect(a.total('clientsMaximum', T0)).toBe(5);
    b.add('clientsConnected', -3);
    expect(a.total('clientsConnected', T0)).toBe(2);
    expect(a.total('clientsMaximum', T0)).toBe(5);
  });

  it('leaves out the gauges of a thread that stopped beating, but keeps its totals', () => {
    const buffer = new ArrayBuffer(SHARED_BYTES);
    const live = attached(buffer, 1);
    const dead = attached(buffer, 2);
    dead.add('clientsConnected', 4);
    dead.add('connectsTotal', 4);
    live.heartbeat(T0 + LIVE_MS + 1);
    expect(live.total('clientsConnected', T0 + LIVE_MS + 1)).toBe(0);
    expect(live.total('connectsTotal', T0 + LIVE_MS + 1)).toBe(4);
  });

  it('lets a new thread take a detached slot: totals carry on, gauges start at zero', () => {
    const buffer = new ArrayBuffer(SHARED_BYTES);
    const old = attached(buffer, 1);
    old.add('subscriptions', 2);
    old.add('publishReceived', 10);
    old.detach();
    const restarted = attached(buffer, 2, T0 + 10);
    expect(restarted.get('publishReceived')).toBe(10); // it got the same slot back
    expect(restarted.get('subscriptions')).toBe(0);
    expect(restarted.total('publishReceived', T0 + 10)).toBe(10);
  });

  it('takes over slots abandoned by crashed threads only when no slot is free', () => {
    const buffer = new ArrayBuffer(SHARED_BYTES);
    const crashed = Array.from({ length: MAX_SLOTS }, (_, i) => {
      const counters = attached(buffer, i + 1);
      counters.add('connectsTotal');
      counters.add('clientsConnected');
      return counters;
    });
    expect(() => new Counters().attach(buffer, 999, T0 + 1000)).toThrow(SharedCountersError);
    const late = attached(buffer, 1000, T0 + ABANDONED_MS + 1);
    expect(late.get('connectsTotal')).toBe(1);
    expect(late.get('clientsConnected')).toBe(0);
    expect(late.total('connectsTotal', T0 + ABANDONED_MS + 1)).toBe(MAX_SLOTS);
    expect(crashed).toHaveLength(MAX_SLOTS);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => new Counters().attach(new ArrayBuffer(16), 1)).toThrow(/bytes/);
  });
});
