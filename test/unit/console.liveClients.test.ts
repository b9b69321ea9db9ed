import { describe, expect, it } from 'vitest';
import { LiveClients, mergeThreads } from '../../src/console/liveClients.js';
import type { ClientSummary } from '../../src/console/web/api.js';

const summary = (clientId: string, queued = 0): ClientSummary => ({
  clientId,
  username: 'admin',
  protocolVersion: 5,
  subscriptions: ['a/#'],
  queued,
  inflight: 0,
  connectedAt: 1,
});
const client = (clientId: string, queued = 0) => ({ describe: () => summary(clientId, queued) });

describe('LiveClients', () => {
  it('describes the clients of its thread now, by client id, up to a limit', () => {
    const clients = new LiveClients();
    const b = client('b', 3);
    clients.add(b);
    clients.add(client('a'));
    clients.add(client('c'));
    expect(clients.snapshot(2)).toEqual({ total: 3, clients: [summary('a'), summary('b', 3)] });
    clients.delete(b);
    expect(clients.snapshot(10).clients.map((c) => c.clientId)).toEqual(['a', 'c']);
  });
});

describe('mergeThreads', () => {
  it('lists every thread\'s clients by client id with their thread, and adds up the totals', () => {
    const merged = mergeThreads(
      [
        { thread: 2, total: 5, clients: [summary('b'), summary('d')] },
        { thread: 1, total: 1, clients: [summary('c')] },
      ],
      2,
    );
    expect(merged).toEqual({ total: 6, clients: [{ ...summary('b'), thread: 2 }, { ...summary('c'), thread: 1 }] });
  });
});
