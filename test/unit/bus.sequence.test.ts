import { describe, expect, it } from 'vitest';
import { Sequence } from '../../src/bus/sequence.js';

describe('Sequence', () => {
  it('gives consecutive, never repeated ranges from one shared counter, seeded from the clock once', () => {
    const shared = new BigInt64Array(new SharedArrayBuffer(8));
    const first = new Sequence(shared);
    const second = new Sequence(shared); // another thread
    first.seed(1_000);
    second.seed(1_500); // the second thread starts later: the counter does not jump
    expect(first.allocate(3)).toBe(1_000_000);
    expect(second.allocate(2)).toBe(1_000_003);
    expect(first.peek()).toBe(1_000_005);
    const restarted = new Sequence(new BigInt64Array(new SharedArrayBuffer(8))); // a new process, later
    restarted.seed(2_000);
    expect(restarted.allocate(1)).toBe(2_000_000);
  });
});
