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
}

/** What table creation takes a table from (a client's budget). */
export interface TableBudget {
  take(now?: number): boolean;
}

interface StoredBudget {
  budget: CreationBudget;
  warned: boolean;
}

/**
 * The budgets of the clients of one thread, by client id, so that reconnecting does not renew a
 * budget. A client's budget is stored only once it creates a table (not at every CONNECT: under
 * connection churn that was a map entry per connection for a minute), and forgotten at the
 * next sweep once it has refilled.
 */
export class CreationBudgets {
  private readonly byClient = new Map<string, StoredBudget>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  get size(): number {
    return this.byClient.size;
  }

  /** The budget of `clientId`, stored on its first `take` (or first refusal). */
  for(clientId: string): ClientBudget {
    return new ClientBudget((now) => this.stored(clientId, now));
  }

  private stored(clientId: string, now: number): StoredBudget {
    let stored = this.byClient.get(clientId);
    if (!stored) this.byClient.set(clientId, (stored = { budget: new CreationBudget(this.ratePerSecond, this.burst, now), warned: false }));
    return stored;
  }

  /** Forgets clients whose budget is full again (nothing to remember about them). */
  sweep(now = Date.now()): void {
    for (const [clientId, entry] of this.byClient) if (entry.budget.isFull(now)) this.byClient.delete(clientId);
  }
}

/** One client's view of its stored budget. */
export class ClientBudget implements TableBudget {
  constructor(private readonly stored: (now: number) => StoredBudget) {}

  take(now = Date.now()): boolean {
    return this.stored(now).budget.take(now);
  }

  /**
   * True the first time a refusal of this client is reported (to log it once per client), whatever
   * refused it: this budget, the broker's table cap or a full bridge backlog. The flag is stored
   * with the budget, so it is forgotten when the sweep forgets a full budget.
   */
  firstRefusal(now = Date.now()): boolean {
    const stored = this.stored(now);
    if (stored.warned) return false;
    stored.warned = true;
    return true;
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
