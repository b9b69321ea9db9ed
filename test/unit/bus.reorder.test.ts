import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../src/bus/reorder.js';

function buffer(next: number) {
  const routed: Array<[number, string]> = [];
  return { routed, reorder: new ReorderBuffer<string>(next, (seq, item) => routed.push([seq, item])) };
}

describe('ReorderBuffer', () => {
  it('routes batches from several threads in sequence order', () => {
    const { routed, reorder } = buffer(10);
    reorder.add({ start: 13, items: ['d', 'e'] }); // thread B committed first
    expect(routed).toEqual([]);
    reorder.add({ start: 10, items: ['a', 'b', 'c'] });
    expect(routed).toEqual([
      [10, 'a'],
      [11, 'b'],
      [12, 'c'],
      [13, 'd'],
      [14, 'e'],
    ]);
    expect(reorder.position).toBe(15);
  });

  it('skips numbers whose message was not accepted, and batches routed before it joined', () => {
    const { routed, reorder } = buffer(5);
    reorder.add({ start: 1, items: ['old', 'old', 'old', 'old'] });
    reorder.add({ start: 5, items: ['a', null, 'c'] });
    expect(routed).toEqual([
      [5, 'a'],
      [7, 'c'],
    ]);
  });

  it('reports a gap that lasts, and goes on once told to skip it', () => {
    const { routed, reorder } = buffer(0);
    reorder.add({ start: 3, items: ['x'] }, 1000);
    expect(reorder.staleGap(500, 1200)).toBeNull();
    expect(reorder.staleGap(500, 1600)).toEqual({ from: 0, to: 3 });
    // The gap, read back from the log: one batch over the whole range, null where nothing was kept.
    reorder.add({ start: 0, items: [null, 'recovered', null] });
    expect(routed).toEqual([
      [1, 'recovered'],
      [3, 'x'],
    ]);
    expect(reorder.staleGap(0)).toBeNull();
    expect(reorder.backlog).toBe(0);
  });

  it('copes with a batch that overlaps numbers already routed', () => {
    const { routed, reorder } = buffer(0);
    reorder.add({ start: 0, items: ['a'] });
    reorder.skipTo(2);
    reorder.add({ start: 1, items: ['b', 'c', 'd'] });
    expect(routed.map(([seq]) => seq)).toEqual([0, 2, 3]);
  });
});
