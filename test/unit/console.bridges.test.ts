import { describe, expect, it } from 'vitest';
import type { BridgeListing } from '../../src/bridges/api.js';
import { bridgeView, deadLetterView, shownUrl } from '../../src/console/bridgeViews.js';
import { ageText, BRIDGE_COLUMNS, bridgesSummary, byteText, DEAD_LETTER_COLUMNS, pendingCell } from '../../src/console/web/bridgesPanel.js';
import { cellsOf } from '../../src/console/web/table.js';
import { listing } from '../helpers/bridgeListing.js';

describe('bridgeView', () => {
  it('picks the figures the panel shows and nothing of the spec beyond name and url', () => {
    const bridge = listing('cloud', {
      sent: 12,
      acknowledged: 11,
      received: 3,
      retried: 2,
      retrying: 1,
      pending: { messages: 4, bytes: 40, oldestAgeMs: 1500, complete: true },
      deadLetters: { count: 1, byReason: { '0x87 Not authorized': 1 } },
      lastError: 'connect ECONNREFUSED',
      lastErrorAt: '2026-01-02T03:04:05.000Z',
    });
    // As if a listing ever carried them: the view picks its fields.
    const withSecrets = { ...bridge, username: 'bridge-user', password: 'hunter2', tls: { key: '/etc/key.pem' } } as unknown as BridgeListing;
    const view = bridgeView(withSecrets);
    expect(view).toEqual({
      name: 'cloud',
      origin: 'runtime',
      url: 'mqtt://remote:1883/',
      connected: true,
      state: 'live',
      sent: 12,
      acknowledged: 11,
      received: 3,
      pending: { messages: 4, bytes: 40, oldestAgeMs: 1500, complete: true },
      retrying: 1,
      retried: 2,
      deadLetters: 1,
      lastError: { message: 'connect ECONNREFUSED', at: Date.parse('2026-01-02T03:04:05.000Z') },
    });
    expect(JSON.stringify(view)).not.toMatch(/hunter2|bridge-user|key\.pem/);
  });

  it('never shows user information of a url', () => {
    expect(shownUrl('mqtts://user:secret@broker.example:8883')).toBe('mqtts://broker.example:8883');
    expect(shownUrl('not a url')).toBe('');
  });

  it('flattens a dead letter, its time as epoch ms', () => {
    const letter = { id: 'cloud/42', position: 42, topic: 'p/bad', remoteTopic: 'fwd/p/bad', qos: 1, bytes: 7, attempts: 3, reason: '0x87 Not authorized', deadAt: '2026-01-02T03:04:05.000Z' };
    expect(deadLetterView(letter)).toEqual({ id: 'cloud/42', topic: 'p/bad', remoteTopic: 'fwd/p/bad', reason: '0x87 Not authorized', attempts: 3, bytes: 7, deadAt: Date.parse(letter.deadAt) });
  });
});

describe('Bridges panel', () => {
  it('shows a row per bridge: connection, counts, backlog, retries, dead letters, last error', () => {
    const view = bridgeView(listing('cloud', { connected: false, state: 'connecting', sent: 5, acknowledged: 4, retried: 2, retrying: 1, pending: { messages: 3, bytes: 2048, oldestAgeMs: 95_000, complete: true }, deadLetters: { count: 1, byReason: {} }, lastError: 'boom', lastErrorAt: null }));
    expect(Object.fromEntries(BRIDGE_COLUMNS.map((c, i) => [c.key, cellsOf(view, BRIDGE_COLUMNS)[i]!.text]))).toEqual({
      name: 'cloud',
      url: 'mqtt://remote:1883/',
      state: 'disconnected · connecting',
      sent: '5',
      acknowledged: '4',
      received: '0',
      pending: '3 (2.0 KiB)',
      oldest: '1 min 35 s',
      retries: '1 / 2',
      dead: '1',
      error: 'boom',
    });
  });

  it('says when the backlog count is a floor, and nothing special when it is empty', () => {
    const of = (pending: { messages: number; bytes: number; complete: boolean }) => pendingCell(bridgeView(listing('b', { pending: { ...pending, oldestAgeMs: null } }))).text;
    expect(of({ messages: 0, bytes: 0, complete: true })).toBe('0');
    expect(of({ messages: 1_000_000, bytes: 5 * 1024 * 1024, complete: false })).toBe('≥ 1000000 (5.0 MiB)');
  });

  it('formats sizes and ages', () => {
    expect([byteText(0), byteText(1023), byteText(1536), byteText(20 * 1024 * 1024)]).toEqual(['0 B', '1023 B', '1.5 KiB', '20 MiB']);
    expect([ageText(null), ageText(860), ageText(42_000), ageText(7_200_000)]).toEqual(['–', '0.9 s', '42 s', '2 h 0 min']);
  });

  it('sums up bridges in the heading', () => {
    const up = bridgeView(listing('a'));
    const down = bridgeView(listing('b', { connected: false, deadLetters: { count: 2, byReason: {} } }));
    expect(bridgesSummary([])).toBe('none configured');
    expect(bridgesSummary([up])).toBe('1, 1 connected');
    expect(bridgesSummary([up, down])).toBe('2, 1 connected, 2 dead letters');
  });

  it('lists dead letters with id, topic, reason, attempts, size and time', () => {
    const letter = deadLetterView({ id: 'x/1', position: 1, topic: 't', remoteTopic: 't', qos: 1, bytes: 7, attempts: 3, reason: 'refused', deadAt: new Date().toISOString() });
    const cells = cellsOf(letter, DEAD_LETTER_COLUMNS);
    expect(DEAD_LETTER_COLUMNS.map((c) => c.header)).toEqual(['Id', 'Topic', 'Reason', 'Attempts', 'Size', 'Dead since']);
    expect(cells.slice(0, 5).map((c) => c.text)).toEqual(['x/1', 't', 'refused', '3', '7 B']);
    expect(cells[5]!.text).toMatch(/\d/);
  });
});
