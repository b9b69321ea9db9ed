import { describe, expect, it } from 'vitest';
import type { BridgeStatus } from '../../src/bridges/status.js';
import { bridgeSysValues } from '../../src/sys/bridgeTopics.js';
import { ChangedValues } from '../../src/sys/tree.js';

const status: BridgeStatus = {
  // Not ZERO_FIGURES: its module opens tables (HarperDB).
  matched: 12,
  refused: 0,
  retried: 0,
  deadLettered: 0,
  replayed: 0,
  resentAfterRestart: 0,
  qos0Dropped: 0,
  inboundFailed: 0,
  sent: 12,
  acknowledged: 10,
  received: 3,
  reconnects: 2,
  connected: true,
  state: 'catching up',
  cursor: 40,
  pending: { messages: 5, bytes: 120, oldestAgeMs: 900, complete: true },
  backlog: { full: true, since: '2026-01-01T00:00:00.000Z', policy: 'refuse', maxMessages: 5, maxBytes: 0, refusedPublishes: 1 },
  warning: 'backlog full',
  retrying: 0,
  deadLetters: { count: 4, byReason: { '0x87': 4 } },
  lastError: 'connection refused',
  lastErrorAt: '2026-01-01T00:00:01.000Z',
  owner: 'thread 1',
  updatedAt: '2026-01-01T00:00:02.000Z',
};

describe('$SYS/broker/bridges', () => {
  it('publishes each bridge\'s status values under its name', () => {
    expect(Object.fromEntries(bridgeSysValues([{ name: 'plant', status }]))).toEqual({
      'broker/bridges/plant/connected': '1',
      'broker/bridges/plant/state': 'catching up',
      'broker/bridges/plant/messages/sent': '12',
      'broker/bridges/plant/messages/acknowledged': '10',
      'broker/bridges/plant/messages/received': '3',
      'broker/bridges/plant/pending/messages': '5',
      'broker/bridges/plant/pending/bytes': '120',
      'broker/bridges/plant/backlog/full': '1',
      'broker/bridges/plant/dead letters/count': '4',
      'broker/bridges/plant/reconnects': '2',
      'broker/bridges/plant/last error/time': '2026-01-01T00:00:01.000Z',
    });
    expect(bridgeSysValues([{ name: 'x', status: { ...status, connected: false, lastErrorAt: null } }]).get('broker/bridges/x/last error/time')).toBe('never');
  });

  it('reports the values of a removed bridge once, to be cleared', () => {
    const changed = new ChangedValues();
    changed.take(bridgeSysValues([{ name: 'a', status }, { name: 'b', status }]));
    const now = bridgeSysValues([{ name: 'a', status }]);
    expect(changed.vanished(now)).toHaveLength(11);
    expect(changed.vanished(now)).toEqual([]);
    expect(changed.take(now).size).toBe(0);
  });
});
