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

  it('says which thread it waits for, and how long, once that thread announced its numbers', () => {
    const { routed, reorder } = buffer(0);
    reorder.add({ start: 3, items: ['x'] }, 1000);
    expect(reorder.stall(1200)).toEqual({ from: 0, to: 3, owner: null, sinceMs: 200 });
    reorder.reserve({ start: 0, count: 3, owner: 7 }, 1100);
    expect(reorder.stall(1600)).toEqual({ from: 0, to: 3, owner: 7, sinceMs: 500 });
    // Its thread died: the range, read back from the log, null where nothing was kept.
    reorder.add({ start: 0, items: [null, 'recovered', null] });
    expect(routed).toEqual([
      [1, 'recovered'],
      [3, 'x'],
    ]);
    expect(reorder.stall()).toBeNull();
    expect(reorder.backlog).toBe(0);
  });

  it('copes with a batch that overlaps numbers already routed', () => {
    const { routed, reorder } = buffer(0);
    reorder.add({ start: 0, items: ['a', 'b'] });
    reorder.add({ start: 1, items: ['b', 'c', 'd'] }); // a late copy of 1 (filled in from the log meanwhile)
    expect(routed.map(([seq]) => seq)).toEqual([0, 1, 2, 3]);
  });
});
