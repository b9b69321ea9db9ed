import { describe, expect, it } from 'vitest';
import { Counters, SHARED_BYTES } from '../../src/stats/counters.js';
import { Overload } from '../../src/stats/overload.js';

describe('Overload', () => {
  it('is set while any thread routes later than the limit, and clears when routing catches up', () => {
    const shared = new ArrayBuffer(SHARED_BYTES);
    const threads = [new Counters(), new Counters()];
    threads.forEach((counters, i) => counters.attach(shared, i + 1, 1)); // a heartbeat of 0 means an unused slot
    const [first, second] = threads.map((counters) => new Overload(counters, 100));
    first!.routed(1000, 1050);
    second!.routed(1000, 1250); // 250 ms late on the second thread
    first!.tick(1300);
    second!.tick(1300);
    first!.tick(1300);
    expect([first!.overloaded, second!.overloaded]).toEqual([true, true]);
    second!.routed(1350, 1360);
    second!.tick(1400);
    first!.tick(1400);
    expect([first!.overloaded, second!.overloaded]).toEqual([false, false]);
  });
});
