import { describe, expect, it } from 'vitest';
import { StartupGate } from '../../src/wire/startupGate.js';

describe('StartupGate', () => {
  it('hands a waiting reader the value as soon as it arrives, not at the deadline', async () => {
    const gate = new StartupGate<string>();
    const started = Date.now();
    const waiting = gate.within(5_000);
    setTimeout(() => gate.open('services'), 50);
    expect(await waiting).toBe('services');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('gives undefined at the deadline when nothing arrives', async () => {
    const gate = new StartupGate<string>();
    const started = Date.now();
    expect(await gate.within(60)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('answers at once when the value is there, and when start-up failed', async () => {
    const ready = new StartupGate<number>();
    ready.open(7);
    expect(ready.value).toBe(7);
    expect(await ready.within(10_000)).toBe(7);

    const failed = new StartupGate<number>();
    const waiting = failed.within(10_000);
    const started = Date.now();
    failed.fail();
    expect(await waiting).toBeUndefined();
    expect(await failed.within(10_000)).toBeUndefined();
    expect(failed.hasFailed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
