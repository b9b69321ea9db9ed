import { describe, expect, it } from 'vitest';
import { CreationBudget, CreationBudgets, Semaphore } from '../../src/tables/creationBudget.js';

describe('CreationBudget', () => {
  it('allows a burst, then the rate', () => {
    const budget = new CreationBudget(2, 3, 0);
    expect([budget.take(0), budget.take(0), budget.take(0), budget.take(0)]).toEqual([true, true, true, false]);
    expect(budget.take(499)).toBe(false);
    expect(budget.take(500)).toBe(true); // 2 per second: one more after half a second
    expect(budget.take(500)).toBe(false);
    expect([budget.take(10_000), budget.take(10_000), budget.take(10_000), budget.take(10_000)]).toEqual([true, true, true, false]);
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, in arrival order', async () => {
    const semaphore = new Semaphore(2);
    const started: number[] = [];
    let active = 0;
    let peak = 0;
    const task = (n: number) =>
      semaphore.run(async () => {
        started.push(n);
        peak = Math.max(peak, ++active);
        await new Promise((resolve) => setTimeout(resolve, 5));
        active--;
        return n;
      });
    expect(await Promise.all([1, 2, 3, 4, 5].map(task))).toEqual([1, 2, 3, 4, 5]);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('lets the next task run when one fails', async () => {
    const semaphore = new Semaphore(1);
    const failed = semaphore.run(() => Promise.reject(new Error('no')));
    const next = semaphore.run(async () => 'ran');
    await expect(failed).rejects.toThrow('no');
    expect(await next).toBe('ran');
  });
});

describe('CreationBudgets', () => {
  it('keeps one budget per client id from its first table on, and forgets budgets that refilled', () => {
    const budgets = new CreationBudgets(1, 2);
    const first = budgets.for('sensor');
    expect(budgets.size).toBe(0); // connecting stores nothing
    expect([first.take(0), first.take(0), first.take(0)]).toEqual([true, true, false]);
    expect(budgets.for('sensor').take(0)).toBe(false); // a reconnect gets the same, spent budget
    budgets.for('other'); // never spent: nothing worth remembering
    expect(budgets.size).toBe(1);
    budgets.sweep(1000);
    expect(budgets.size).toBe(1); // 'sensor' has refilled one of two
    budgets.sweep(2000);
    expect(budgets.size).toBe(0);
  });

  it('reports the first refusal of a client once, across reconnects, even with its budget unspent', () => {
    const budgets = new CreationBudgets(1, 1);
    const session = budgets.for('sensor');
    expect(session.firstRefusal(0)).toBe(true); // refused by something else (the table cap, a bridge backlog)
    expect(session.firstRefusal(0)).toBe(false);
    expect(budgets.for('sensor').firstRefusal(0)).toBe(false);
    budgets.sweep(0); // a full budget is forgotten, and its flag with it
    expect(budgets.for('sensor').firstRefusal(0)).toBe(true);
    const spender = budgets.for('spender');
    spender.take(0);
    expect(spender.take(0)).toBe(false);
    expect(spender.firstRefusal(0)).toBe(true);
    expect(spender.firstRefusal(0)).toBe(false);
  });
});
