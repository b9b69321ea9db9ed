import { describe, expect, it } from 'vitest';
import { asKeyQuery, historyId, timeConditionsAsIds, timeSortAsId } from '../../src/historyId.js';

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

describe('time conditions on the history key', () => {
  const t = 1_795_341_600_000;
  const ids = [t - 1, t, t + 1].flatMap((ms) => [historyId(ms, 0, 0), historyId(ms, 35, 2_000_000)]);
  const holds = (c: { comparator: string; value: string | string[] }, id: string): boolean => {
    switch (c.comparator) {
      case 'greater_than_equal':
        return id >= (c.value as string);
      case 'less_than':
        return id < (c.value as string);
      case 'between':
        return id >= c.value[0]! && id <= c.value[1]!;
    }
    throw new Error(c.comparator);
  };
  const selected = (comparator: string, value: unknown) => {
    const [c] = timeConditionsAsIds([{ attribute: 'timestamp', comparator, value }]) as Array<{ attribute: string; comparator: string; value: string }>;
    expect(c!.attribute).toBe('id');
    return ids.filter((id) => holds(c!, id)).map((id) => ids.indexOf(id) >> 1); // 0: t-1, 1: t, 2: t+1
  };

  it.each([
    ['gt', t, [2, 2]],
    ['greater_than', String(t), [2, 2]],
    ['ge', new Date(t), [1, 1, 2, 2]],
    ['greater_than_equal', new Date(t).toISOString(), [1, 1, 2, 2]],
    ['lt', t, [0, 0]],
    ['less_than_equal', t, [0, 0, 1, 1]],
    ['equals', t, [1, 1]],
    ['between', [t, t + 1], [1, 1, 2, 2]],
  ] as const)('%s %s selects exactly the ids of those milliseconds', (comparator, value, expected) => {
    expect(selected(comparator, value)).toEqual(expected);
  });

  it('leaves other attributes, other comparators and values that are no time alone; rewrites inside groups', () => {
    const other = { attribute: 'topic', value: 'a/b' };
    const notTime = { attribute: 'timestamp', comparator: 'gt', value: 'yesterday' };
    const ne = { attribute: 'timestamp', comparator: 'ne', value: t };
    expect(timeConditionsAsIds([other, notTime, ne])).toEqual([other, notTime, ne]);
    const [group] = timeConditionsAsIds([{ operator: 'or', conditions: [{ attribute: 'timestamp', comparator: 'ge', value: t }] }]) as Array<{ conditions: Array<{ attribute: string }> }>;
    expect(group!.conditions[0]!.attribute).toBe('id');
  });

  it('rewrites chained conditions that leave the attribute to their parent', () => {
    const [c] = timeConditionsAsIds([{ attribute: 'timestamp', comparator: 'gt', value: t, chainedConditions: [{ comparator: 'lt', value: t + 5 }] }]) as unknown as Array<{ chainedConditions: Array<{ attribute: string; comparator: string }> }>;
    expect(c!.chainedConditions[0]).toMatchObject({ attribute: 'id', comparator: 'less_than' });
  });

  it('sorts by the key instead of the timestamp', () => {
    expect(timeSortAsId({ attribute: 'timestamp', descending: true })).toEqual({ attribute: 'id', descending: true });
    expect(timeSortAsId({ attribute: 'topic', next: { attribute: 'timestamp' } })).toEqual({ attribute: 'topic', next: { attribute: 'id' } });
  });
});

describe('asKeyQuery', () => {
  const everyId = { attribute: 'id', comparator: 'greater_than_equal', value: '0' };

  it('gives a sort alone, or a condition on no index, a condition every id meets', () => {
    const sortOnly: { conditions?: unknown; sort?: unknown } = { sort: { attribute: 'timestamp', descending: true } };
    asKeyQuery(sortOnly);
    expect(sortOnly).toEqual({ conditions: [everyId], sort: { attribute: 'id', descending: true } });
    const byClient: { conditions?: unknown } = { conditions: [{ attribute: 'clientId', value: 'c1' }] };
    asKeyQuery(byClient);
    expect(byClient.conditions).toEqual([{ attribute: 'clientId', value: 'c1' }, everyId]);
  });

  it('leaves queries on an index and plain listings as they are', () => {
    const byTopic: { conditions?: unknown } = { conditions: [{ attribute: 'topic', value: 'a/b' }] };
    asKeyQuery(byTopic);
    expect(byTopic.conditions).toEqual([{ attribute: 'topic', value: 'a/b' }]);
    const byTime: { conditions?: unknown } = { conditions: [{ attribute: 'timestamp', comparator: 'ge', value: 1 }] };
    asKeyQuery(byTime);
    expect(byTime.conditions).toEqual([{ attribute: 'id', comparator: 'greater_than_equal', value: '000000001' }]);
    const listing: { conditions?: unknown; sort?: unknown } = {};
    asKeyQuery(listing);
    expect(listing.conditions).toBeUndefined();
  });
});
