import { describe, expect, it } from 'vitest';
import { historyId } from '../../src/historyId.js';

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
