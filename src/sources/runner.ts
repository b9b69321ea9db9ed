// Runs one source on the thread that holds its lease: reads committed changes after its position,
// publishes their messages through the broker path, each message committed in one transaction with
// the position just past it (Positions.commitWith), so a crash replays from exactly where the last
// committed message left off. One chunk at a time: a chunk's messages are all committed before the
// next chunk is read.
import { Access } from '../authorize.js';
import { log } from '../harper/log.js';
import { publishProblem, type Inbound, type Publisher } from '../publish.js';
import type { TableFeed } from './auditLog.js';
import { buildMessages, type Outbound } from './changes.js';
import { crashPointAfterMessages } from './crashPoint.js';
import type { SourceDefinition } from './definition.js';
import type { Positions, SourcePosition } from './positions.js';
import type { SentRows } from './sentRows.js';
import type { SourceSlot } from './slot.js';

/** Changes read per chunk (a transaction is never split, so a chunk can be longer). */
const CHUNK = 2000;
/** Pause between reads once every committed change is handled. */
const POLL_MS = 10;
const RETRY_MS = 1000;
const WARN_INTERVAL_MS = 10_000;

/** Sources publish as the broker itself: the source's configuration is the permission. */
const BROKER = new Access(undefined, '');

export interface RunnerContext {
  publisher: Publisher;
  positions: Positions;
  /** Tracking rows, for sources with `track: true`. */
  sent: SentRows;
  slot: SourceSlot;
  /** This thread's id, as held in the lease. */
  me: number;
  /** Where a source without a stored position starts when its `from` is "now". */
  startedAt: number;
  /** After taking the source over from a thread that went silent or exited: how long the stored position must stay still before it is read. */
  settleMs: number;
}

export class SourceRunner {
  private stopped = false;
  private lastWarned = 0;
  /** The loop has ended (stopped, lease taken by another thread, or an unexpected error). */
  finished = false;
  readonly done: Promise<void>;

  constructor(
    readonly source: SourceDefinition,
    private readonly feed: TableFeed,
    private readonly context: RunnerContext,
  ) {
    this.done = this.run()
      .catch((error) => log.error(`source ${source.name} stopped`, error))
      .finally(() => (this.finished = true));
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  /** Until stopped or another thread owns the lease (a lease this thread renewed late is waited for, see below). */
  private get running(): boolean {
    return !this.stopped && this.context.slot.owner === this.context.me;
  }

  /** Checked again as each message's batch is written: a thread that lost the lease commits nothing more. */
  private readonly holdsLease = (): boolean => this.context.slot.holds(this.context.me);

  private async run(): Promise<void> {
    const { source } = this;
    let state = this.context.settleMs > 0 ? await this.settledState() : await this.startingState();
    const removed = this.feed.removedUpTo();
    if (removed !== undefined && removed > state.position) {
      this.problem(`changes from ${new Date(state.position).toISOString()} to ${new Date(removed).toISOString()} left the audit log (logging.auditRetention) before this source published them`);
    }
    log.info(`source ${source.name}: publishing changes of ${source.database}.${source.table} after ${new Date(state.position).toISOString()}`);
    while (this.running) {
      // Renewed late (a busy thread): nothing is published until it is renewed, as another thread may take it meanwhile.
      if (!this.holdsLease()) {
        await sleep(POLL_MS);
        continue;
      }
      try {
        const read = this.feed.read(state.position, CHUNK);
        if (read.last === state.position) {
          this.context.slot.noteFeed(true, 0);
          await sleep(POLL_MS);
          continue;
        }
        this.context.slot.noteFeed(false, read.changes.length > 0 ? Date.now() - read.changes[0]!.txnTime : 0);
        state = await this.publishChunk(state, read.changes, read.last);
        if (!read.more) this.context.slot.noteFeed(true, 0);
      } catch (error) {
        this.problem(`could not publish changes after ${state.position}: ${(error as Error).message}`, error);
        // Whatever was committed is in the stored position; go on from there.
        state = (await this.context.positions.read(source.name).catch(() => undefined)) ?? state;
        await sleep(RETRY_MS);
      }
    }
  }

  /** After a takeover: the stored position once it has stopped moving (a commit of the old holder may still land). */
  private async settledState(): Promise<SourcePosition> {
    let before = await this.startingState();
    for (;;) {
      await sleep(this.context.settleMs);
      const after = await this.startingState();
      if (after.position === before.position && after.published === before.published) return after;
      before = after;
    }
  }

  private async startingState(): Promise<SourcePosition> {
    const { positions } = this.context;
    const stored = await positions.read(this.source.name);
    if (stored) return stored;
    const from = this.source.from === 'now' ? this.context.startedAt : this.source.from;
    const state: SourcePosition = { id: this.source.name, position: from, changeTime: 0, published: 0, skipped: 0, updatedAt: Date.now() };
    await positions.save(state);
    return state;
  }

  private async publishChunk(state: SourcePosition, changes: Parameters<typeof buildMessages>[2], last: number): Promise<SourcePosition> {
    const { source } = this;
    const { publisher, positions } = this.context;
    const built = buildMessages(source, this.feed.table.primaryKey, changes);
    let skipped = state.skipped + built.skipped.length;
    const problems = built.skipped.map((s) => s.problem);
    let published = state.published;
    let changeTime = state.changeTime;
    let committedThrough = state.position;
    const inflight: Array<Promise<void>> = [];
    for (const message of built.messages) {
      const inbound = toInbound(message);
      const refused = publishProblem(inbound.topic);
      if (refused) {
        skipped++;
        problems.push(`change ${message.through}: topic ${JSON.stringify(inbound.topic)}: ${refused.message}`);
        continue;
      }
      published++;
      changeTime = message.changeTime;
      committedThrough = message.through;
      const commitWith = [positions.commitWith({ id: source.name, position: message.through, changeTime, published, skipped: state.skipped, updatedAt: Date.now() }, this.holdsLease)];
      if (source.track) {
        for (const row of message.rows) commitWith.push(this.context.sent.commitWith(source.name, row.id, { topic: inbound.topic, changeId: row.changeId, changedAt: message.changeTime }, this.holdsLease));
      }
      if (publisher.mustWait(inbound)) {
        // Its table is created first: nothing after it may commit before it does.
        await settle(inflight.splice(0));
        await publisher.publish(inbound, BROKER, undefined, { commitWith });
      } else {
        inflight.push(publisher.publish(inbound, BROKER, undefined, { commitWith }));
      }
    }
    await settle(inflight);
    if (built.messages.length > 0) crashPointAfterMessages();
    if (problems.length > 0) this.problem(`${problems.length} change(s) made no message; the last: ${problems[problems.length - 1]}`);
    const after: SourcePosition = { id: source.name, position: last, changeTime, published, skipped, updatedAt: Date.now() };
    // The messages' transactions stored their positions; this covers changes after the last message
    // (only while this thread still runs the source: another one may be past it already).
    if (last !== committedThrough || skipped !== state.skipped) {
      if (!this.holdsLease()) throw new Error('the source moved to another thread');
      await positions.save(after);
    }
    return after;
  }

  private problem(message: string, error?: unknown): void {
    this.context.slot.setError(message);
    if (Date.now() - this.lastWarned < WARN_INTERVAL_MS) return;
    this.lastWarned = Date.now();
    log.warn(`source ${this.source.name}: ${message}`, ...(error ? [error] : []));
  }
}

function toInbound(message: Outbound): Inbound {
  return { topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, clientId: '', properties: message.properties };
}

/** Waits for every promise; then throws the first failure, if any. */
async function settle(promises: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
