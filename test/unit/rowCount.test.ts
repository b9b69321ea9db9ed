import { describe, expect, it } from 'vitest';
import { rowCount } from '../../src/harper/rowCount.js';

/** A table store over sorted string keys, as lmdb-js's getRange reads it (from `start`, inclusive). */
function store(entries: Array<[string, unknown]>) {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    primaryStore: {
      getRange: ({ start }: { start: string | true }) => sorted.filter(([key]) => start === true || key >= start).map(([key, value]) => ({ key, value })),
    },
  };
}

const rows = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i): [string, unknown] => [`${prefix}${String(i).padStart(6, '0')}`, { i }]);

/** Counts, and the event-loop turns the count let run meanwhile. */
async function counted(tables: Array<ReturnType<typeof store>>): Promise<{ total: number; turns: number }> {
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const total = await rowCount(tables);
  counting = false;
  return { total, turns };
}

describe('rowCount', () => {
  it('counts every row of tables of any size across slice boundaries', async () => {
    for (const n of [0, 1, 255, 256, 257, 511, 512, 1000]) expect((await counted([store(rows(n))])).total).toBe(n);
    expect((await counted([store(rows(300, 'a')), store([]), store(rows(700, 'b'))])).total).toBe(1000);
  });

  it('skips the entries deleted rows leave behind', async () => {
    const entries = rows(600).map(([key, value], i): [string, unknown] => [key, i % 3 === 0 ? null : value]);
    expect((await counted([store(entries)])).total).toBe(400);
  });

  it('lets the event loop run while it counts 10,000 rows, and 2,000 small tables', async () => {
    expect(await counted([store(rows(10_000))])).toMatchObject({ total: 10_000 });
    expect((await counted([store(rows(10_000))])).turns).toBeGreaterThanOrEqual(30);
    const small = Array.from({ length: 2000 }, (_, t) => store(rows(1, `t${t}-`)));
    const many = await counted(small);
    expect(many.total).toBe(2000);
    expect(many.turns).toBeGreaterThanOrEqual(5);
  });
});
