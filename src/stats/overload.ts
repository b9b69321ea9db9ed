// Overload: when some worker thread routes messages later than ROUTING_LAG_LIMIT_MS after they
// were accepted, publishers are slowed down (one message written at a time per client, and their
// sockets not read meanwhile) instead of every client's deliveries falling behind. Each thread
// puts its worst lag of the last tick into the shared counters; every thread reads the maximum.
import type { Counters } from './counters.js';

export const ROUTING_LAG_LIMIT_MS = 100;
const TICK_MS = 50;

export class Overload {
  private worst = 0;
  /** True while some thread routes later than the limit. */
  overloaded = false;

  /** `pressure`: other reasons to slow publishers down on this thread (a full history queue). */
  constructor(
    private readonly counters: Counters,
    private readonly limitMs = ROUTING_LAG_LIMIT_MS,
    private readonly pressure: () => boolean = () => false,
  ) {}

  /** Called for each message this thread routes, with the time it was accepted. */
  routed(acceptedAt: number, now = Date.now()): void {
    const lag = now - acceptedAt;
    if (lag > this.worst) this.worst = lag;
  }

  tick(now = Date.now()): void {
    this.counters.set('routingLagMs', this.worst);
    this.worst = 0;
    this.overloaded = this.counters.total('routingLagMs', now) > this.limitMs || this.pressure();
  }

  start(): void {
    setInterval(() => this.tick(), TICK_MS).unref();
  }
}
