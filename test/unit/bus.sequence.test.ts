import { describe, expect, it } from 'vitest';
import { Sequence } from '../../src/bus/sequence.js';

describe('Sequence', () => {
  it('gives consecutive, never repeated ranges from one shared counter, seeded from the clock once', () => {
    const shared = new BigInt64Array(new SharedArrayBuffer(8));
    const first = new Sequence(shared);
    const second = new Sequence(shared); // another thread
    first.seed(1_000);
    second.seed(999); // a later seed from an earlier clock changes nothing
    expect(first.allocate(3)).toBe(1_000_000);
    expect(second.allocate(2)).toBe(1_000_003);
    expect(first.peek()).toBe(1_000_005);
    second.seed(2_000); // a restarted process, later
    expect(first.allocate(1)).toBe(2_000_000);
  });
});
