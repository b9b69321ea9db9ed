import { describe, expect, it } from 'vitest';
import { BATCH_MAX, BATCH_SPAN_MS, batchesBefore, batchKey, batchesOf, firstBatchFor, inIdOrder, messageIds, parseBatchKey, type Recorded } from '../../src/history/batches.js';
import { BatchCount } from '../../src/history/count.js';
import { historyId, idAt } from '../../src/history/ids.js';
import { HistoryQueryError, planQuery } from '../../src/history/query.js';
import type { BusMessage } from '../../src/messages.js';

describe('historyId', () => {
  it('sorts by time, then thread, then sequence', () => {
    const ids = [
      historyId(1_795_000_000_000, 0, 35),
      historyId(1_795_000_000_000, 0, 36),
      historyId(1_795_000_000_000, 1, 0),
      historyId(1_795_000_000_001, 0, 0),
      historyId(1_795_000_000_999, 12, 1_000_000),
      historyId(2_000_000_000_000, 0, 0),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has a fixed width', () => {
    expect(historyId(1, 0, 0)).toHaveLength(historyId(2_000_000_000_000, 63, 2_000_000_000).length);
  });
});

const T = 1_795_341_600_000;

function recorded(sequence: number, timestamp: number, topic = 'a/b'): Recorded {
  const message: BusMessage = { topic, payload: Buffer.from(`m${sequence}`), qos: 1, retain: false, clientId: 'c', timestamp };
  return { sequence, message };
}

describe('batch records', () => {
  it('hold consecutive messages with their ids, topics once, the count in the key', () => {
    const items = [recorded(7, T), recorded(8, T, 'a/c'), recorded(9, T + 5)];
    const [batch, ...rest] = batchesOf(items, 3);
    expect(rest).toEqual([]);
    expect(parseBatchKey(batch!.id)).toEqual({ firstId: historyId(T, 3, 7), count: 3 });
    expect(batch!.topics).toEqual(['a/b', 'a/c']);
    expect(messageIds(batch!.id, batch!.messages)).toEqual([historyId(T, 3, 7), historyId(T, 3, 8), historyId(T + 5, 3, 9)]);
    expect(batch!.messages.map((m) => m.payload.toString())).toEqual(['m7', 'm8', 'm9']);
  });

  it(`end at ${BATCH_MAX} messages, at ${BATCH_SPAN_MS} ms after their first, at an earlier time or a gap in sequence`, () => {
    const full = Array.from({ length: BATCH_MAX + 1 }, (_, i) => recorded(i, T));
    expect(batchesOf(full, 0).map((b) => b.messages.length)).toEqual([BATCH_MAX, 1]);
    const sizes = (items: Recorded[]) => batchesOf(items, 0).map((b) => b.messages.length);
    expect(sizes([recorded(0, T), recorded(1, T + BATCH_SPAN_MS - 1), recorded(2, T + BATCH_SPAN_MS)])).toEqual([2, 1]);
    expect(sizes([recorded(0, T), recorded(1, T - 1), recorded(2, T)])).toEqual([1, 2]);
    expect(sizes([recorded(0, T), recorded(2, T)])).toEqual([1, 1]);
  });

  it('keep every message id at or after the first and within the span, whatever the times', () => {
    const times = [5, 3, 3, 90, 120, 40, 41, 500, 499, 499, 600];
    const items = times.map((ms, i) => recorded(i, T + ms));
    for (const batch of batchesOf(items, 1)) {
      const first = parseBatchKey(batch.id)!.firstId;
      for (const id of messageIds(batch.id, batch.messages)) {
        expect(id >= first).toBe(true);
        expect(id < idAt(batch.messages[0]!.timestamp + BATCH_SPAN_MS)).toBe(true);
      }
    }
    expect(batchesOf(items, 1).flatMap((b) => b.messages.map((m) => m.timestamp - T))).toEqual(times);
  });
});

describe('batch key bounds', () => {
  const ids = [historyId(T, 0, 5), historyId(T, 1, 0), historyId(T + 1, 0, 6), historyId(T + 150, 0, 7)];
  const keys = ids.map((id, i) => batchKey(id, i + 1));

  it.each([
    ['an id, exclusive', ids[1]!],
    ['an id, inclusive', ids[1]! + '\u0000'],
    ['a millisecond', idAt(T + 1)],
    ['a part of an id, inclusive', ids[2]!.slice(0, 5) + '\u0000'],
  ])('below %s: exactly the batches whose first id is below it', (_, to) => {
    expect(keys.filter((key) => key < batchesBefore(to))).toEqual(keys.filter((_, i) => ids[i]! < to));
  });

  it(`from an id: every batch that may hold it (first message at most ${BATCH_SPAN_MS} ms earlier)`, () => {
    expect(keys.filter((key) => key >= firstBatchFor(ids[3]!))).toEqual(keys.slice(3));
    expect(keys.filter((key) => key >= firstBatchFor(historyId(T + BATCH_SPAN_MS, 0, 0)))).toEqual(keys);
  });
});

describe('BatchCount', () => {
  it('sums the counts in the keys, and forgets whole minutes before the oldest batch kept', () => {
    const count = new BatchCount();
    const keys = [batchKey(historyId(T, 0, 0), 3), batchKey(historyId(T + 1000, 1, 0), 2), batchKey(historyId(T + 61_000, 0, 3), 5), batchKey(historyId(T + 122_000, 0, 8), 1)];
    for (const key of keys) count.add(key);
    expect(count.total).toBe(11);
    expect(count.newest).toBe(keys[3]);
    count.keptFrom(keys[0]!);
    expect(count.total).toBe(11);
    count.keptFrom(keys[2]!); // the first minute expired
    expect(count.total).toBe(6);
    count.keptFrom(null); // all expired
    expect(count.total).toBe(0);
  });
});

describe('inIdOrder', () => {
  // Two threads' batches, overlapping in time, read in key order: rows come out in id order.
  const threads = [0, 1].flatMap((thread) => {
    const items = Array.from({ length: 40 }, (_, i) => recorded(i, T + Math.floor(i * 7.3) + thread * 3));
    return batchesOf(items, thread);
  });
  const read = async (descending: boolean) => {
    const keys = threads.map((b) => b.id).sort();
    if (descending) keys.reverse();
    async function* batches() {
      for (const key of keys) {
        const batch = threads.find((b) => b.id === key)!;
        yield { key, rows: messageIds(key, batch.messages).map((id) => ({ id })) };
      }
    }
    const rows: string[] = [];
    for await (const row of inIdOrder(batches(), descending)) rows.push(row.id);
    return rows;
  };

  it.each([false, true])('merges overlapping batches into exact id order (descending %s)', async (descending) => {
    const all = threads.flatMap((b) => messageIds(b.id, b.messages)).sort();
    if (descending) all.reverse();
    expect(threads.length).toBeGreaterThan(2);
    expect(await read(descending)).toEqual(all);
  });
});

describe('planQuery', () => {
  const row = (ms: number, extra: Record<string, unknown> = {}) => ({ id: historyId(ms, 0, 0), topic: 'a/b', qos: 1, retain: false, clientId: 'c1', timestamp: new Date(ms), payload: 'x', ...extra });
  const rows = [T - 1, T, T + 1].map((ms) => row(ms));
  const selected = (comparator: string, value: unknown) => {
    const plan = planQuery({ conditions: [{ attribute: 'timestamp', comparator, value }] });
    const inRange = (r: { id: string }) => (plan.from === null || r.id >= plan.from) && (plan.to === null || r.id < plan.to);
    // The id range is what the batch lookup reads: it must hold every row the exact test keeps.
    for (const r of rows) if (plan.matches(r)) expect(inRange(r)).toBe(true);
    return rows.map((r, i) => (plan.matches(r) ? i : -1)).filter((i) => i >= 0);
  };

  it.each([
    ['gt', T, [2]],
    ['greater_than', String(T), [2]],
    ['ge', new Date(T), [1, 2]],
    ['greater_than_equal', new Date(T).toISOString(), [1, 2]],
    ['lt', T, [0]],
    ['less_than_equal', T, [0, 1]],
    ['equals', T, [1]],
    ['between', [T, T + 1], [1, 2]],
  ] as const)('timestamp %s %s selects exactly those messages', (comparator, value, expected) => {
    expect(selected(comparator, value)).toEqual(expected);
  });

  it('tests every field as its type: qos and time as numbers, retain as a boolean, or-groups and chains', () => {
    const plan = planQuery({ conditions: [{ attribute: 'qos', value: '1' }, { attribute: 'retain', value: 'false' }, { operator: 'or', conditions: [{ attribute: 'clientId', value: 'zz' }, { attribute: 'topic', comparator: 'starts_with', value: 'a/' }] }] });
    expect(plan.matches(row(T))).toBe(true);
    expect(plan.matches(row(T, { qos: 0 }))).toBe(false);
    expect(plan.matches(row(T, { retain: true }))).toBe(false);
    const chained = planQuery({ conditions: [{ attribute: 'timestamp', comparator: 'gt', value: T - 1, chainedConditions: [{ comparator: 'lt', value: T + 1 }] }] });
    expect(rows.map((r) => chained.matches(r))).toEqual([false, true, false]);
    expect(chained.from).toBe(idAt(T));
    expect(chained.to).toBe(idAt(T + 1));
  });

  it('looks up a topic by the index, orders by id or timestamp without sorting, sorts other fields', () => {
    expect(planQuery({ conditions: [{ attribute: 'topic', value: 'a/b' }], sort: { attribute: 'timestamp', descending: true } })).toMatchObject({ topic: { equals: 'a/b' }, descending: true, compare: null });
    expect(planQuery({ conditions: [{ attribute: 'topic', comparator: 'starts_with', value: 'a/' }] }).topic).toEqual({ startsWith: 'a/' });
    expect(planQuery({ operator: 'or', conditions: [{ attribute: 'topic', value: 'a/b' }] }).topic).toBeNull();
    const byClient = planQuery({ sort: { attribute: 'clientId', descending: true } });
    expect([row(T, { clientId: 'a' }), row(T, { clientId: 'b' })].sort(byClient.compare!).map((r) => r.clientId)).toEqual(['b', 'a']);
  });

  it('shapes rows as select asks: one value, objects, arrays', () => {
    expect(planQuery({ select: 'payload' }).shape(row(T))).toBe('x');
    expect(planQuery({ select: ['id', 'qos'] }).shape(row(T))).toEqual({ id: historyId(T, 0, 0), qos: 1 });
    expect(planQuery({ select: Object.assign(['qos', 'payload'], { asArray: true }) }).shape(row(T))).toEqual([1, 'x']);
  });

  it('refuses what it cannot answer with a message naming it', () => {
    expect(() => planQuery({ conditions: [{ attribute: 'timestamp', comparator: 'gt', value: 'yesterday' }] })).toThrow(new HistoryQueryError('timestamp needs a time (an ISO date or epoch ms), got "yesterday"'));
    expect(() => planQuery({ conditions: [{ attribute: 'qos', comparator: 'like', value: 1 }] })).toThrow(/unknown comparator "like" on qos/);
    expect(() => planQuery({ limit: -1 })).toThrow(/limit/);
  });
});
