// SysFigures for unit tests: all zero but what a test sets.
import { COUNTER_NAMES, type CounterName } from '../../src/stats/counters.js';
import type { SysFigures } from '../../src/sys/tree.js';

const zero = Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Record<CounterName, number>;

export const figures = (overrides: Partial<SysFigures> = {}, counters: Partial<Record<CounterName, number>> = {}): SysFigures => ({
  version: 'harper-mqtt-bridge 1.2.3 on HarperDB 4.7.29',
  uptimeSeconds: 12.7,
  counters: { ...zero, ...counters },
  clientsDisconnected: 0,
  offlineSubscriptions: 0,
  retainedMessages: 0,
  topicTables: 0,
  tableRules: 0,
  fanOut: [],
  historyRows: 0,
  ...overrides,
});
