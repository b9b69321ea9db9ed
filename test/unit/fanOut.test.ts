import { describe, expect, it } from 'vitest';
import { FanOut } from '../../src/tables/fanOut.js';

describe('FanOut', () => {
  it('reports a parent once, when its sibling tables reach the threshold, with a rule that folds them', () => {
    const fanOut = new FanOut(3);
    expect(fanOut.add('devices/d1/')).toBeNull();
    expect(fanOut.add('devices/d2/')).toBeNull();
    expect(fanOut.add('home/kitchen/')).toBeNull();
    expect(fanOut.add('devices/d3/')).toEqual({ parent: 'devices/+/', tables: 3, suggestedPattern: 'devices/+device/#rest' });
    expect(fanOut.add('devices/d4/')).toBeNull();
    expect(fanOut.over()).toEqual([{ parent: 'devices/+/', tables: 4, suggestedPattern: 'devices/+device/#rest' }]);
  });

  it('names the level after its parent, or id', () => {
    const fanOut = new FanOut(1);
    expect(fanOut.add('org/acme/')?.suggestedPattern).toBe('org/+org_id/#rest');
    expect(fanOut.add('x-y/a/')?.suggestedPattern).toBe('x-y/+id/#rest');
    expect(fanOut.add('a/')).toEqual({ parent: '+/', tables: 1, suggestedPattern: '+id/#rest' });
    expect(fanOut.add('')).toBeNull();
  });

  it('is off at 0', () => {
    const fanOut = new FanOut(0);
    expect(fanOut.add('devices/d1/')).toBeNull();
    expect(fanOut.over()).toEqual([]);
  });
});
