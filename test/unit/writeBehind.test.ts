// The write-behind's notion of "busy": the event loop's utilization averaged over ticks, so that
// one idle tick in a burst (the loop waiting on a commit) does not start a history commit; and
// when a commit is due: a commit's worth, the oldest waited long enough, or the flow paused.
import { describe, expect, it } from 'vitest';
import { gathered, smoothed } from '../../src/harper/writeBehind.js';

const run = (ticks: number[], from = 0) => ticks.reduce((average, tick) => smoothed(average, tick), from);

describe('smoothed event loop utilization', () => {
  it('stays busy through one idle tick in a burst', () => {
    const burst = run(Array(50).fill(1));
    expect(burst).toBeGreaterThan(0.99);
    expect(smoothed(burst, 0)).toBeGreaterThan(0.8);
    expect(run([0.7, 1, 0.7, 1], burst)).toBeGreaterThan(0.8);
  });

  it('is no longer busy three idle ticks after a burst ends', () => {
    const burst = run(Array(50).fill(1));
    expect(run([0, 0], burst)).toBeGreaterThan(0.8);
    expect(run([0, 0, 0], burst)).toBeLessThan(0.8);
  });

  it('never becomes busy under a light load', () => {
    expect(run(Array(500).fill(0.3))).toBeLessThan(0.31);
  });
});

describe('gathering a commit', () => {
  const limits = { perCommit: 10_000, gatherMs: 1000, quietMs: 50 };

  it('waits while messages keep coming, less than a commit is queued and the oldest is younger than gatherMs', () => {
    expect(gathered(9_999, 999, 0, limits)).toBe(false);
    expect(gathered(1, 0, 49, limits)).toBe(false);
  });

  it('commits a full commit at once, and what is queued once the oldest has waited gatherMs', () => {
    expect(gathered(10_000, 0, 0, limits)).toBe(true);
    expect(gathered(1, 1000, 0, limits)).toBe(true);
  });

  it('commits what is queued once nothing has come for quietMs', () => {
    expect(gathered(1, 50, 50, limits)).toBe(true);
    expect(gathered(500, 300, 50, limits)).toBe(true);
  });

  it('never commits an empty queue', () => {
    expect(gathered(0, 60_000, 60_000, limits)).toBe(false);
  });
});
