// The bridges of this worker thread: the specs of config.yaml and of the runtime table, followed as
// that table changes; each thread starts the bridges whose lease it gets, and restarts a bridge
// whose spec changed. Every thread runs this; a bridge runs on one of them.
import { existsSync } from 'node:fs';
import { log } from '../harper/log.js';
import type { HarperTable, TableEvent } from '../harper/tables.js';
import type { BacklogSignals } from './backlogSignal.js';
import { RunningBridge, type BridgeServices } from './bridge.js';
import { InflightStore } from './inflightStore.js';
import { Lease } from './lease.js';
import { readBridgeList, readBridgeSpec, type BridgeSpec } from './spec.js';
import { parkedOf, type StoredBridge } from './tables.js';

const LEASE_CHECK_MS = 1000;

export const specFileExists = (path: string) => existsSync(path);

export interface ManagerOptions {
  configured: unknown;
  thread: number;
  isLive(threadId: number): boolean;
  /** A table whose store hands out shared memory. */
  sharedTable: HarperTable<object>;
  signals: BacklogSignals;
  /** Log config problems (one thread does, so they appear once). */
  reportProblems: boolean;
}

export class BridgeManager {
  readonly configSpecs: BridgeSpec[];
  private runtimeSpecs = new Map<string, BridgeSpec>();
  /** Bridges that refuse local publishes when their backlog is full (checked on every publish: kept ready). */
  refusing: readonly BridgeSpec[] = [];
  private readonly running = new Map<string, { spec: BridgeSpec; bridge: Promise<RunningBridge | null> }>();
  private readonly leases = new Map<string, Lease>();
  /** Bridges still shutting down: not started again until they have saved their cursor. */
  private readonly stopping = new Set<string>();

  private constructor(
    private readonly services: BridgeServices,
    private readonly options: ManagerOptions,
  ) {
    const { specs, problems } = readBridgeList(options.configured, specFileExists);
    this.configSpecs = specs;
    this.refusing = specs.filter((spec) => spec.onBacklogFull === 'refuse');
    if (options.reportProblems) for (const problem of problems) log.error(`config.yaml mqttBridge.${problem}; this bridge is not started, the others are`);
  }

  static async start(services: BridgeServices, options: ManagerOptions): Promise<BridgeManager> {
    const manager = new BridgeManager(services, options);
    const changes = await services.tables.bridges.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<StoredBridge>) => {
      if (event.type === 'put' || event.type === 'delete') manager.reload().catch((error) => log.error('could not apply changed bridges', error));
    });
    await manager.reload();
    setInterval(() => manager.reconcile(), LEASE_CHECK_MS).unref();
    return manager;
  }

  /** Every bridge in force, config.yaml's first. */
  specs(): Array<{ spec: BridgeSpec; source: 'config' | 'runtime' }> {
    return this.withConfig(this.runtimeSpecs);
  }

  /**
   * Every bridge as stored right now, config.yaml's first. specs() follows the table a moment
   * later on each thread; REST reads use this, so a bridge added on one thread is there on the next
   * request whichever thread answers it.
   */
  async storedSpecs(): Promise<Array<{ spec: BridgeSpec; source: 'config' | 'runtime' }>> {
    return this.withConfig(await this.readRuntime(false));
  }

  private withConfig(runtime: Map<string, BridgeSpec>): Array<{ spec: BridgeSpec; source: 'config' | 'runtime' }> {
    return [...this.configSpecs.map((spec) => ({ spec, source: 'config' as const })), ...[...runtime.values()].map((spec) => ({ spec, source: 'runtime' as const }))];
  }

  private async readRuntime(report: boolean): Promise<Map<string, BridgeSpec>> {
    const runtime = new Map<string, BridgeSpec>();
    for await (const row of this.services.tables.bridges.search({})) {
      if (this.configSpecs.some((spec) => spec.name === row.id)) continue; // config.yaml wins
      try {
        // Checked again: a TLS file may have gone since it was added.
        runtime.set(row.id, readBridgeSpec(JSON.parse(JSON.stringify(row.spec)), specFileExists));
      } catch (error) {
        if (report) log.error(`runtime bridge ${row.id} is not started: ${(error as Error).message}`);
      }
    }
    return runtime;
  }

  private async reload(): Promise<void> {
    this.runtimeSpecs = await this.readRuntime(this.options.reportProblems);
    this.refusing = this.specs()
      .map(({ spec }) => spec)
      .filter((spec) => spec.onBacklogFull === 'refuse');
    this.reconcile();
  }

  /** Starts bridges this thread gets the lease of, restarts changed ones, stops removed ones. */
  private reconcile(): void {
    const wanted = new Map(this.specs().map(({ spec }) => [spec.name, spec]));
    for (const [name, entry] of this.running) {
      const spec = wanted.get(name);
      if (!this.lease(name).held()) this.stop(name, 'another thread took it over');
      else if (!spec || JSON.stringify(spec) !== JSON.stringify(entry.spec)) this.stop(name, spec ? 'changed' : 'removed');
    }
    for (const [name, spec] of wanted) {
      if (this.running.has(name) || this.stopping.has(name)) continue;
      if (!this.lease(name).acquire()) continue;
      log.info(`bridge ${name}: starting on thread ${this.options.thread}`);
      const lease = this.lease(name);
      const bridge = RunningBridge.start(spec, this.services, this.options.signals.of(name), () => lease.held()).catch((error) => {
        log.error(`bridge ${name} could not start`, error);
        this.running.delete(name);
        this.lease(name).release();
        return null;
      });
      this.running.set(name, { spec, bridge });
    }
  }

  private stop(name: string, why: string): void {
    const entry = this.running.get(name);
    if (!entry) return;
    this.running.delete(name);
    this.stopping.add(name);
    log.info(`bridge ${name}: stopping (${why})`);
    void entry.bridge
      .then((bridge) => bridge?.stop())
      .catch((error) => log.error(`bridge ${name} did not stop cleanly`, error))
      .finally(() => {
        // A removed bridge forgets its cursor; a changed one keeps it and restarts with the next check.
        if (why === 'removed') void forget(this.services, name);
        this.stopping.delete(name);
        this.lease(name).release();
      });
  }

  private lease(name: string): Lease {
    let lease = this.leases.get(name);
    if (!lease) this.leases.set(name, (lease = new Lease(this.options.sharedTable, name, this.options.thread, this.options.isLive)));
    return lease;
  }
}

/** A removed bridge's cursor, pending retries and QoS 2 exchanges (its dead letters stay, to be replayed or to expire). */
async function forget(services: BridgeServices, name: string): Promise<void> {
  await services.tables.state.delete(name);
  await InflightStore.forget(services.tables.inflight, name);
  for (const row of await parkedOf(services.tables.retries, name)) await services.tables.retries.delete(row.id);
}
