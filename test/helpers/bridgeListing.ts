// A bridge as GET /mqtt_bridges/ lists it, for unit tests of what is made from the listings.
import type { BridgeListing } from '../../src/bridges/api.js';
import type { BridgeFigures } from '../../src/bridges/tables.js';

// Not ZERO_FIGURES itself: its module opens HarperDB tables.
const ZERO_FIGURES: BridgeFigures = { matched: 0, sent: 0, acknowledged: 0, refused: 0, retried: 0, deadLettered: 0, replayed: 0, resentAfterRestart: 0, qos0Dropped: 0, received: 0, inboundFailed: 0, reconnects: 0 };

export function listing(name: string, status: Partial<BridgeListing['status']> = {}): BridgeListing {
  return {
    name,
    url: 'mqtt://remote:1883/',
    outbound: [],
    inbound: [],
    hasPassword: true,
    source: 'runtime',
    status: {
      ...ZERO_FIGURES,
      connected: true,
      state: 'live',
      cursor: 10,
      pending: { messages: 0, bytes: 0, oldestAgeMs: null, complete: true },
      retrying: 0,
      deadLetters: { count: 0, byReason: {} },
      lastError: null,
      lastErrorAt: null,
      owner: 'thread 1',
      updatedAt: '2026-01-02T03:04:05.000Z',
      ...status,
    },
  } as unknown as BridgeListing;
}
