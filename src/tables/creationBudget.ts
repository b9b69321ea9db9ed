// How many new topic tables one client may still create: a token bucket of `burst` tables,
// refilled at `ratePerSecond`. Each table costs every worker thread memory and a reload of all
// table metadata, so one client must not be able to create thousands. Pure code, no HarperDB.

export class CreationBudget {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes one table from the budget; false when it is spent. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the budget has refilled to its burst. */
  isFull(now = Date.now()): boolean {
    return this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond >= this.burst;
  }

  /** Gives back a table that was not created after all (another thread or client created it first). */
  refund(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }
}

/**
 * The budgets of the clients of one thread, by client id, so that reconnecting does not renew a
 * budget. A budget that has refilled completely is forgotten at the next sweep.
 */
export class CreationBudgets {
  private readonly byClient = new Map<string, { budget: CreationBudget; warned: boolean }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  get size(): number {
    return this.byClient.size;
  }

  for(clientId: string, now = Date.now()): { budget: CreationBudget; warned: boolean } {
    let entry = this.byClient.get(clientId);
    if (!entry) this.byClient.set(clientId, (entry = { budget: new CreationBudget(this.ratePerSecond, this.burst, now), warned: false }));
    return entry;
  }

  /** Forgets clients whose budget is full again (nothing to remember about them). */
  sweep(now = Date.now()): void {
    for (const [clientId, entry] of this.byClient) if (entry.budget.isFull(now)) this.byClient.delete(clientId);
  }
}

/** Runs at most `limit` tasks at a time, the rest in the order they came. */
export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
