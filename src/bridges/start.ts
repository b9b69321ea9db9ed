// Wiring of the bridges on one worker thread: tables, the manager (leases, running bridges), the
// REST API, and on one thread the dead-letter sweep.
import type { Bus } from '../bus/bus.js';
import { log } from '../harper/log.js';
import type { Publisher } from '../publish.js';
import type { Router } from '../router.js';
import { registerBridgesApi, type BridgeReads } from './api.js';
import { backlogGate } from './backlogGate.js';
import { BacklogSignals } from './backlogSignal.js';
import { BridgeManager } from './manager.js';
import { sweepDeadLetters } from './retries.js';
import { SPEC_DEFAULTS } from './spec.js';
import { openBridgeTables } from './tables.js';

const SWEEP_MS = 3600_000;

export interface BridgeWiring {
  configured: unknown;
  database: string;
  messageLogTtl: number;
  bus: Bus;
  router: Router;
  publisher: Publisher;
  thread: number;
  /** The first worker thread: reports config problems and sweeps dead letters. */
  first: boolean;
  owner: string;
  isLive(threadId: number): boolean;
}

/** The REST API's reads, for the console and the metrics. */
export async function startBridges(wiring: BridgeWiring): Promise<BridgeReads> {
  const { bus, database } = wiring;
  const tables = await openBridgeTables(database);
  const services = { bus, router: wiring.router, publisher: wiring.publisher, tables, database, messageLogTtl: wiring.messageLogTtl, owner: wiring.owner };
  const signals = new BacklogSignals(bus.table);
  const manager = await BridgeManager.start(services, { configured: wiring.configured, thread: wiring.thread, isLive: wiring.isLive, sharedTable: bus.table, signals, reportProblems: wiring.first });
  wiring.publisher.addGate(backlogGate(() => manager.refusing, signals));
  const reads = registerBridgesApi(manager, tables, bus, signals);
  if (wiring.first) {
    const retainDaysOf = (name: string) => manager.specs().find((entry) => entry.spec.name === name)?.spec.deadLetterRetainDays ?? SPEC_DEFAULTS.deadLetterRetainDays;
    const sweep = () =>
      sweepDeadLetters(tables, retainDaysOf).then(
        (removed) => removed > 0 && log.info(`removed ${removed} dead letters past their bridge's deadLetterRetainDays`),
        (error) => log.warn('could not sweep dead letters', error),
      );
    setInterval(sweep, SWEEP_MS).unref();
  }
  return reads;
}
