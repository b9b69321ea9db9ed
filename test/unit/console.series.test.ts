import { describe, expect, it } from 'vitest';
import { GaugeSeries, polylinePoints, RateSeries, shortNumber } from '../../src/console/web/series.js';

describe('RateSeries', () => {
  it('turns growing totals into per-second rates', () => {
    const series = new RateSeries();
    series.push(0, 100);
    expect(series.points).toEqual([]);
    series.push(2000, 300);
    series.push(3000, 300);
    expect(series.points).toEqual([
      { t: 2000, v: 100 },
      { t: 3000, v: 0 },
    ]);
    expect(series.latest).toBe(0);
  });

  it('starts over when the total goes down (HarperDB restarted)', () => {
    const series = new RateSeries();
    series.push(0, 1000);
    series.push(1000, 5);
    series.push(2000, 15);
    expect(series.points).toEqual([{ t: 2000, v: 10 }]);
  });

  it('keeps at most its capacity', () => {
    const series = new GaugeSeries(3);
    for (let i = 0; i < 5; i++) series.push(i, i);
    expect(series.points.map((p) => p.v)).toEqual([2, 3, 4]);
  });
});

describe('polylinePoints', () => {
  it('puts the end time at the right edge and the top value at the top', () => {
    const points = [
      { t: 0, v: 0 },
      { t: 5000, v: 50 },
      { t: 10_000, v: 100 },
    ];
    expect(polylinePoints(points, { width: 100, height: 50, span: 10_000, end: 10_000, top: 100 })).toBe('0.0,50.0 50.0,25.0 100.0,0.0');
    expect(polylinePoints([{ t: 10_000, v: 5 }], { width: 100, height: 50, span: 10_000, end: 10_000, top: 0 })).toBe('100.0,0.0');
  });
});

describe('shortNumber', () => {
  it('abbreviates', () => {
    expect([0, 7, 0.5, 999, 1234, 56_789, 2_500_000].map(shortNumber)).toEqual(['0', '7', '0.5', '999', '1.2k', '57k', '2.5M']);
  });
});
