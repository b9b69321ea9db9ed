import { describe, expect, it } from 'vitest';
import { buildMessages, type Change } from '../../src/sources/changes.js';
import { parseSource } from '../../src/sources/definition.js';
import { TableFeed, type AuditedTable } from '../../src/sources/auditLog.js';
import { preferredWorker, SLOT_BYTES, SourceSlot, LEASE_MS, TAKEOVER_MS } from '../../src/sources/slot.js';

const source = (spec: object) => parseSource({ table: 'TableA', ...spec }, 's', 'data');
const payloads = (built: ReturnType<typeof buildMessages>) => built.messages.map((m) => [m.topic, m.payload.toString(), m.through]);

describe('messages from changes', () => {
  const changes: Change[] = [
    { position: 10, txnTime: 100, id: 'a', op: 'insert', old: null, new: { id: 'a', MonitorId: 'M1', Value: 50 } },
    { position: 11, txnTime: 100, id: 'b', op: 'insert', old: null, new: { id: 'b', MonitorId: 'M2', Value: 10 } },
    { position: 12, txnTime: 101, id: 'a', op: 'update', old: { id: 'a', MonitorId: 'M1', Value: 50 }, new: { id: 'a', MonitorId: 'M1', Value: 60 } },
    { position: 13, txnTime: 102, id: 'b', op: 'delete', old: { id: 'b', MonitorId: 'M2', Value: 10 } },
  ];

  it('event mode: one message per change, deletes carry the old row, a retained delete clears the topic', () => {
    expect(payloads(buildMessages(source({ topic: 'data/{MonitorId}/{op}', fields: ['Value'] }), 'id', changes))).toEqual([
      ['data/M1/insert', '{"Value":50}', 10],
      ['data/M2/insert', '{"Value":10}', 11],
      ['data/M1/update', '{"Value":60}', 12],
      ['data/M2/delete', '{"Value":10}', 13],
    ]);
    const retained = buildMessages(source({ topic: 'data/{MonitorId}', retain: true, operations: ['delete'] }), 'id', changes);
    expect(payloads(retained)).toEqual([['data/M2', '', 13]]);
  });

  it('batch mode: one message per transaction, filters and operations applied per row', () => {
    const built = buildMessages(source({ topic: 'sync/{table}', mode: 'batch', filter: { field: 'Value', gte: 50 }, fields: { Value: 'v' } }), 'id', changes);
    expect(payloads(built)).toEqual([
      ['sync/TableA', '{"data":[{"op":"insert","new":{"v":50}}]}', 10],
      ['sync/TableA', '{"data":[{"op":"update","old":{"v":50},"new":{"v":60}}]}', 12],
    ]);
  });

  it('skips, with the reason, a change whose row has no value for the topic; a deleted row the log forgot keeps its key', () => {
    const built = buildMessages(source({ topic: 'data/{MonitorId}' }), 'id', [{ position: 1, txnTime: 1, id: 'x', op: 'insert', old: null, new: { id: 'x' } }]);
    expect(built).toEqual({ messages: [], skipped: [{ position: 1, problem: 'change 1 of TableA x: the row has no MonitorId for topic data/{MonitorId}' }] });
    const forgotten = buildMessages(source({ topic: 'gone/{id}' }), 'id', [{ position: 2, txnTime: 2, id: 'y', op: 'delete', old: undefined }]);
    expect(payloads(forgotten)).toEqual([['gone/y', '{"id":"y"}', 2]]);
  });
});

/** An audit entry as HarperDB 4.7 writes it (resources/auditStore.ts createAuditEntry), for a string key and a JSON record. */
function entry(options: { previous?: number; type: 'put' | 'delete'; nodeId: number; tableId: number; id: string; version: number; record?: object }): Buffer {
  const parts: Buffer[] = [];
  if (options.previous) {
    const previous = Buffer.alloc(8);
    previous.writeDoubleBE(options.previous);
    parts.push(previous);
  }
  const action = options.type === 'put' ? 1 | 16 : 2;
  const id = Buffer.from(options.id);
  const version = Buffer.alloc(8);
  version.writeDoubleBE(options.version);
  parts.push(Buffer.from([action, options.nodeId, options.tableId, id.length]), id, version, Buffer.from([0]));
  if (options.record) parts.push(Buffer.from(JSON.stringify(options.record)));
  return Buffer.concat(parts);
}

function fakeTable(entries: Array<[number, Buffer]>): AuditedTable {
  const log = new Map(entries);
  const keys = [...log.keys()].sort((a, b) => a - b);
  return {
    tableName: 'T',
    databaseName: 'data',
    tableId: 7,
    primaryKey: 'id',
    auditStore: {
      getRange: ({ start, exclusiveStart }: { start: number; exclusiveStart?: boolean }) => keys.filter((k) => (exclusiveStart ? k > start : k >= start)).map((key) => ({ key, value: log.get(key)! })),
      get: (key: unknown) => log.get(key as number),
    },
    primaryStore: {
      getRange: () => [],
      get: () => undefined,
      readKey: (buffer: Uint8Array, start: number, end: number) => Buffer.from(buffer.subarray(start, end)).toString(),
      decoder: { decode: (buffer: Uint8Array) => JSON.parse(Buffer.from(buffer).toString()) },
      getEntry: () => undefined,
    },
  };
}

describe('the change feed from the audit log', () => {
  const T = 1_800_000_000_000;
  const table = fakeTable([
    [T + 1, entry({ type: 'put', nodeId: 0, tableId: 7, id: 'a', version: T, record: { id: 'a', v: 1 } })],
    [T + 2, entry({ type: 'put', nodeId: 0, tableId: 9, id: 'other', version: T, record: { id: 'other' } })],
    [T + 3, entry({ type: 'put', nodeId: 3, tableId: 7, id: 'replicated', version: T + 3, record: { id: 'replicated' } })],
    [T + 4, entry({ previous: T + 1, type: 'put', nodeId: 0, tableId: 7, id: 'a', version: T + 4, record: { id: 'a', v: 2 } })],
    [T + 5, entry({ previous: T + 4, type: 'delete', nodeId: 0, tableId: 7, id: 'a', version: T + 5 })],
  ]);

  it('yields this table\'s changes committed on this node only, with the row before and after', () => {
    const read = new TableFeed(table).read(0, 100);
    expect(read).toEqual({
      last: T + 5,
      more: false,
      changes: [
        { position: T + 1, txnTime: T, id: 'a', op: 'insert', old: null, new: { id: 'a', v: 1 } },
        { position: T + 4, txnTime: T + 4, id: 'a', op: 'update', old: { id: 'a', v: 1 }, new: { id: 'a', v: 2 } },
        { position: T + 5, txnTime: T + 5, id: 'a', op: 'delete', old: { id: 'a', v: 2 } },
      ],
    });
  });

  it('says up to where HarperDB removed old entries (a source stopped longer than the retention lost them)', () => {
    const removed = fakeTable([]);
    const mark = new Float64Array([T - 60_000]);
    removed.auditStore.get = (key: unknown) => (key === Symbol.for('last-removed') ? new Uint8Array(mark.buffer) : undefined);
    expect(new TableFeed(removed).removedUpTo()).toBe(T - 60_000);
    expect(new TableFeed(table).removedUpTo()).toBeUndefined();
  });

  it('stops at its limit only between transactions, and goes on from a position', () => {
    const feed = new TableFeed(table);
    expect(feed.read(0, 1)).toMatchObject({ last: T + 2, more: true }); // T+2 shares T+1's transaction
    expect(feed.read(T + 3, 100).changes.map((c) => c.position)).toEqual([T + 4, T + 5]);
  });
});

describe('source slots: one thread runs a source', () => {
  const slot = () => new SourceSlot(new ArrayBuffer(SLOT_BYTES));

  it('lets the preferred thread claim a free source at once, others only after a while', () => {
    const s = slot();
    expect(s.tryClaim(2, false, 1000)).toBe(false);
    expect(s.tryClaim(1, true, 1000)).toBe(true);
    expect(s.tryClaim(2, true, 1001)).toBe(false);
    expect(s.holds(1, 1001)).toBe(true);
    s.release(1, 2000);
    expect(s.tryClaim(2, false, 2000 + TAKEOVER_MS - 1)).toBe(false);
    expect(s.tryClaim(2, false, 2000 + TAKEOVER_MS)).toBe(true);
  });

  it('takes over from a holder that stopped renewing, and the old holder knows it lost it', () => {
    const s = slot();
    s.tryClaim(1, true, 0);
    s.renew(1, 1000);
    expect(s.tryClaim(2, true, 1000 + LEASE_MS)).toBe(false);
    expect(s.tryClaim(2, true, 1001 + LEASE_MS)).toBe(true);
    expect(s.holds(1, 1001 + LEASE_MS)).toBe(false);
    expect(s.renew(1, 1002 + LEASE_MS)).toBe(false);
  });

  it('makes the next holder wait for the writes of one that exited or went silent, not of one that stopped cleanly', () => {
    const s = slot();
    s.tryClaim(1, true, 0);
    expect(s.mustSettle(2, 0)).toBe(false); // held: nobody claims it
    s.release(1, 10);
    expect(s.mustSettle(2, 10)).toBe(false); // its runner stopped: every write landed
    expect(s.tryClaim(2, true, 10)).toBe(true);
    s.abandon(2, 20); // its thread exits, maybe mid-commit
    expect(s.owner).toBe(0);
    expect(s.mustSettle(1, 20)).toBe(true);
    expect(s.tryClaim(1, true, 20)).toBe(true);
    s.release(1, 30);
    expect(s.mustSettle(2, 30)).toBe(false); // the flag went with the claim
    s.tryClaim(2, true, 30);
    expect(s.mustSettle(1, 30 + LEASE_MS)).toBe(false);
    expect(s.mustSettle(1, 31 + LEASE_MS)).toBe(true); // went silent
    expect(s.mustSettle(2, 31 + LEASE_MS)).toBe(false); // its own lease, renewed late
  });

  it('gives a holder that renewed late its lease back while nobody else took it', () => {
    const s = slot();
    s.tryClaim(1, true, 0);
    expect(s.holds(1, 1 + LEASE_MS)).toBe(false);
    expect(s.tryClaim(1, true, 1 + LEASE_MS)).toBe(true);
    expect(s.holds(1, 2 + LEASE_MS)).toBe(true);
  });

  it('keeps the last error and spreads sources over threads', () => {
    const s = slot();
    s.setError('boom', 5);
    s.setError('again', 6);
    expect(s.lastError).toEqual({ message: 'again', at: 6, count: 2 });
    const spread = new Set(['TableA', 'TableB', 'TableC', 'TableD', 'TableE'].map((name) => preferredWorker(name, 2)));
    expect(spread).toEqual(new Set([0, 1]));
    expect(preferredWorker('TableA', 2)).toBe(preferredWorker('TableA', 2));
  });
});
