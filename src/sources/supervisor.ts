// Decides, on each worker thread, which sources it runs: each source has one preferred thread
// (a hash of its name over the worker threads, so sources spread out and a restarted thread gets
// its own back), and a lease in memory shared by the process's threads that only one holds. A
// source whose holder stops renewing (the thread died or hangs) is taken over by its preferred
// thread, or after a while by any. A source whose table does not exist yet waits for it.
import { log } from '../harper/log.js';
import { sharedBuffer } from '../harper/sharedMemory.js';
import { openTable } from '../harper/tables.js';
import { TableFeed, type AuditedTable } from './auditLog.js';
import type { SourceDefinition } from './definition.js';
import type { Positions } from './positions.js';
import type { SentRows } from './sentRows.js';
import { SourceRunner, type RunnerContext } from './runner.js';
import { preferredWorker, SLOT_BYTES, SourceSlot } from './slot.js';
import type { SourceStore } from './sourceStore.js';
import { tableProblem } from './tableCheck.js';

const TICK_MS = 500;
const TAKEOVER_SETTLE_MS = 1000;

export interface ThreadInfo {
  /** node's threadId: unique among the process's threads, never reused. */
  me: number;
  workerIndex: number;
  workerCount: number;
}

export class Supervisor {
  private readonly runners = new Map<string, { runner: SourceRunner; spec: string; tableId: number }>();
  private readonly slots = new Map<string, SourceSlot>();
  /** "Now" for a new config source: when this HarperDB process started, the same on every thread. */
  private readonly startedAt = Date.now() - process.uptime() * 1000;
  private ticking = false;
  private readonly reported = new Set<string>();

  constructor(
    private readonly store: SourceStore,
    private readonly positions: Positions,
    private readonly sent: SentRows,
    private readonly publisher: RunnerContext['publisher'],
    private readonly thread: ThreadInfo,
  ) {}

  start(): void {
    setInterval(() => void this.tick(), TICK_MS).unref();
    this.store.onChange(() => void this.tick());
    // HarperDB ends a worker it restarts with process.exit, perhaps in the middle of a commit.
    process.once('exit', () => {
      for (const name of this.runners.keys()) this.slot(name).abandon(this.thread.me);
    });
    void this.tick();
  }

  /** The shared slot of a source (lease and status), the same bytes on every thread. */
  slot(name: string): SourceSlot {
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = new SourceSlot(sharedBuffer(this.positions.sharedTable, `harper-mqtt-bridge/source/${name}`, SLOT_BYTES))));
    return slot;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const sources = this.store.all();
      const names = new Set(sources.map((s) => s.name));
      for (const [name, { runner }] of this.runners) {
        if (!names.has(name)) await this.stopRunner(name, runner, 'removed');
      }
      for (const source of sources) await this.look(source);
    } catch (error) {
      log.error('sources: supervision failed', error);
    } finally {
      this.ticking = false;
    }
  }

  private async look(source: SourceDefinition): Promise<void> {
    const { me, workerIndex, workerCount } = this.thread;
    const slot = this.slot(source.name);
    const spec = JSON.stringify(source.spec);
    const running = this.runners.get(source.name);
    const table = openTable<object>(source.database, source.table) as unknown as AuditedTable | undefined;
    if (running) {
      // A table dropped and created again is another table (another id in the audit log).
      if (running.spec !== spec || table?.tableId !== running.tableId) await this.stopRunner(source.name, running.runner, running.spec !== spec ? 'changed' : 'table dropped or replaced');
      else if (running.runner.finished) await this.stopRunner(source.name, running.runner, 'ended');
      else if (slot.renew(me)) return;
      else return void (await this.stopRunner(source.name, running.runner, 'lease taken by another thread'));
    }
    if (!table || tableProblem(source, table)) return;
    const mustSettle = slot.mustSettle(me);
    if (!slot.tryClaim(me, preferredWorker(source.name, workerCount) === workerIndex)) return;
    try {
      const feed = new TableFeed(table);
      // Taken from a holder that went silent or exited: give a write it may have had under way time to land.
      const settleMs = mustSettle ? TAKEOVER_SETTLE_MS : 0;
      const context: RunnerContext = { publisher: this.publisher, positions: this.positions, sent: this.sent, slot, me, startedAt: this.startedAt, settleMs };
      this.runners.set(source.name, { runner: new SourceRunner(source, feed, context), spec, tableId: table.tableId });
    } catch (error) {
      // Not this thread's to retry every tick: the status shows it, the log says it once.
      slot.setError((error as Error).message);
      slot.release(me);
      if (!this.reported.has(source.name)) log.error(`source ${source.name} cannot start`, error);
      this.reported.add(source.name);
    }
  }

  private async stopRunner(name: string, runner: SourceRunner, why: string): Promise<void> {
    this.runners.delete(name);
    await runner.stop();
    this.slot(name).release(this.thread.me);
    log.info(`source ${name} stopped on this thread (${why})`);
  }
}
