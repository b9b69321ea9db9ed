import { describe, expect, it } from 'vitest';
import { BacklogTally } from '../../src/bridges/backlog.js';
import { backlogGate } from '../../src/bridges/backlogGate.js';
import type { BacklogSignals } from '../../src/bridges/backlogSignal.js';
import { OutboundCursor, UNCOUNTED } from '../../src/bridges/cursor.js';
import { readBridgeSpec } from '../../src/bridges/spec.js';
import { PublishRefused } from '../../src/publish.js';

const base = { name: 'plant', url: 'mqtt://127.0.0.1:1883', outbound: [{ filter: 'devices/#' }] };
const exists = () => true;

describe('backlog cap spec', () => {
  it('has no cap and warns by default', () => {
    expect(readBridgeSpec(base, exists)).toMatchObject({ maxBacklogMessages: 0, maxBacklogBytes: 0, onBacklogFull: 'warn' });
    expect(readBridgeSpec({ ...base, maxBacklogMessages: 10, maxBacklogBytes: 4096, onBacklogFull: 'refuse' }, exists)).toMatchObject({ maxBacklogMessages: 10, maxBacklogBytes: 4096, onBacklogFull: 'refuse' });
  });

  it.each([
    [{ maxBacklogMessages: 'lots' }, 'bridge "plant".maxBacklogMessages must be a whole number, 0 for no cap, got "lots"'],
    [{ maxBacklogBytes: -1 }, 'bridge "plant".maxBacklogBytes must be a whole number, 0 for no cap, got -1'],
    [{ maxBacklogBytes: 1.5 }, 'bridge "plant".maxBacklogBytes must be a whole number, 0 for no cap, got 1.5'],
    [{ onBacklogFull: 'drop-oldest' }, 'bridge "plant".onBacklogFull must be "warn" or "refuse", got "drop-oldest"'],
  ])('refuses %j with one line naming the value', (fields, message) => {
    expect(() => readBridgeSpec({ ...base, ...fields }, exists)).toThrow(message);
  });
});

describe('backlog tally', () => {
  const cap = { maxBacklogMessages: 10, maxBacklogBytes: 0, onBacklogFull: 'warn' as const };

  it('reports each crossing once, and is not full again until below 90% of the cap', () => {
    const tally = new BacklogTally(cap);
    expect(tally.add(9, 90, 1)).toBeNull(); // not seeded yet: no verdict
    expect(tally.seed(0, 0, 2)).toBeNull();
    expect(tally.add(1, 10, 3)).toBe('full');
    expect([tally.full, tally.fullSince]).toEqual([true, 3]);
    expect(tally.add(5, 50, 4)).toBeNull();
    expect(tally.warning()).toBe('backlog full: 15 messages, 150 bytes waiting for the remote (maxBacklogMessages 10); local publishes are still accepted and kept (onBacklogFull: warn)');
    expect(tally.add(-6, -60, 5)).toBeNull(); // 9 = 90%: still full
    expect(tally.add(-1, -10, 6)).toBe('below');
    expect([tally.full, tally.fullSince, tally.warning()]).toEqual([false, null, null]);
  });

  it('caps bytes too, and a seed can make it full', () => {
    const tally = new BacklogTally({ maxBacklogMessages: 0, maxBacklogBytes: 100, onBacklogFull: 'refuse' });
    tally.add(1, 40);
    expect(tally.seed(2, 60)).toBe('full');
    expect(tally.warning()).toContain('(maxBacklogBytes 100); local QoS 1/2 publishes to its outbound topics are refused with 0x97');
  });
});

describe('outbound cursor and the backlog', () => {
  it('reports backlog messages as it passes them, once, in any order of acknowledgement', () => {
    const passed: Array<[number, number]> = [];
    const cursor = new OutboundCursor(10, 10, (messages, bytes) => passed.push([messages, bytes]));
    cursor.advanceRead(11, true, 5);
    cursor.advanceRead(12, false);
    cursor.advanceRead(13, true, 7);
    cursor.advanceRead(14, true, UNCOUNTED);
    cursor.finish(13);
    cursor.finish(14);
    expect(passed).toEqual([]);
    cursor.finish(11);
    expect(passed).toEqual([[2, 12]]);
    cursor.finish(11);
    expect(passed).toEqual([[2, 12]]);
  });
});

describe('backlog gate', () => {
  const refusing = [readBridgeSpec({ ...base, onBacklogFull: 'refuse', maxBacklogMessages: 5 }, exists)];
  const signal = { full: false, refusals: 0, refused() { this.refusals++; } };
  const signals = { of: () => signal } as unknown as BacklogSignals;
  const gate = backlogGate(() => refusing, signals);
  const message = (topic: string, qos: 0 | 1 | 2 = 1, clientId = 'c1') => ({ topic, payload: Buffer.from('x'), qos, retain: false, clientId });

  it('refuses QoS 1/2 publishes to the rules\' topics with quota-exceeded while the backlog is full', () => {
    expect(gate(message('devices/a'))).toBeNull();
    signal.full = true;
    const refusal = gate(message('devices/a'));
    expect(refusal).toBeInstanceOf(PublishRefused);
    expect(refusal?.reason).toBe('quota-exceeded');
    expect(signal.refusals).toBe(1);
    expect(gate(message('other/a'))).toBeNull();
    expect(gate(message('devices/a', 0))).toBeNull();
    expect(gate(message('devices/a', 2, '$bridge/other'))).toBeNull();
  });
});
