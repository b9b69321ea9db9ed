// Opens the component's tables and services on this worker thread. Every thread runs it; the
// tables are shared, the routing state is per thread.
import { Access } from './authorize.js';
import { ClientsBoard } from './console/clientsBoard.js';
import type { ConsoleServices } from './console/consoleApi.js';
import { LiveClients } from './console/liveClients.js';
import { Bus } from './bus/bus.js';
import type { BridgeConfig } from './config.js';
import { log } from './harper/log.js';
import { sharedBuffer } from './harper/sharedMemory.js';
import { bootId, nodeThreadId, workerIndex } from './harper/thread.js';
import { History } from './history/store.js';
import { Publisher } from './publish.js';
import { RetainedStore } from './retained.js';
import { Router } from './router.js';
import { DelayedWills } from './session/delayedWills.js';
import type { SessionServices } from './session/client.js';
import { SessionStore } from './session/store.js';
import { WillStore } from './session/wills.js';
import { HEARTBEAT_MS, SHARED_BYTES, type Counters } from './stats/counters.js';
import { Overload } from './stats/overload.js';
import type { FigureSources } from './sys/figures.js';
import { openSysTable, sysRetainedSource } from './sys/sysTable.js';
import { SysUpdater } from './sys/updater.js';
import { versionString } from './sys/version.js';
import { TopicPaths } from './rest/topicPaths.js';
import { registerRulesApi } from './rules/rulesApi.js';
import { CredentialStore } from './devices/credentialStore.js';
import { registerCredentialsApi } from './devices/credentialsApi.js';
import { Devices } from './devices/devices.js';
import { registerIngestApi } from './ingest/ingestApi.js';
import { registerTelemetryApi } from './telemetry/telemetryApi.js';
import { RuleStore } from './rules/ruleStore.js';
import { CreationBudgets } from './tables/creationBudget.js';
import { TopicRegistry } from './tables/registry.js';
import type { SourceStatuses } from './sources/sourcesApi.js';
import { startSources } from './sources/start.js';
import type { BridgeReads } from './bridges/api.js';
import { startBridges } from './bridges/start.js';

/** How often creation budgets that refilled are forgotten. */
const BUDGET_SWEEP_MS = 60_000;
/** How often this thread reports its history backlog to the shared counters. */
const HISTORY_PENDING_MS = 250;
/** First topic levels served over REST when maxTopicTables sets no bound. */
const MAX_REST_ROOTS = 10_000;

export interface Started {
  /** What each client session uses. */
  session: SessionServices;
  /** Where the broker's figures come from ($SYS, metrics). */
  figures: FigureSources;
  console: ConsoleServices;
  /** null: sources are off. */
  sources: SourceStatuses | null;
  bridges: BridgeReads;
}

export async function startServices(config: BridgeConfig, counters: Counters): Promise<Started> {
  const { database } = config;
  const bus = await Bus.open(database, config.messageLogTtl, nodeThreadId, (threadId) => counters.isLive(threadId));
  shareCounters(counters, bus);
  const registry = await TopicRegistry.open(database, {
    tablesPerDatabase: config.tablesPerDatabase,
    maxTables: config.maxTopicTables,
    fanOutWarning: config.fanOutWarning,
    onCreated: () => counters.add('tablesCreated'),
    onRefused: () => counters.add('tablesRefused'),
  });
  const rules = await RuleStore.open(database, config.topicRules);
  const sysTable = openSysTable();
  let paths: TopicPaths | undefined;
  const retained = new RetainedStore(registry, rules, (topic) => paths?.note(topic));
  retained.addSource(sysRetainedSource(sysTable));
  const credentials = await CredentialStore.open(database);
  const devices = await Devices.start(credentials);
  registerCredentialsApi(credentials);
  const requestAccess = { database, accessRules: config.accessRules, devices };
  if (config.restTopicPaths) paths = await TopicPaths.open(retained, registry, config.maxTopicTables || MAX_REST_ROOTS, requestAccess);
  registerRulesApi(rules, retained);
  // Rules of config.yaml may be new since the last start: one thread moves the rows they now own.
  if (workerIndex === 0) void moveIntoConfigRules(config, retained);
  const history = config.historyTtl > 0 ? await History.open(database, config.historyTtl, requestAccess) : null;
  const publisher = new Publisher(retained, bus, history);
  registerIngestApi({ config, publisher, retained, counters, access: requestAccess });
  registerTelemetryApi(history, retained, requestAccess);
  const sessions = await SessionStore.open(database);
  const wills = await WillStore.open(database, workerIndex, bootId);
  const delayedWills = new DelayedWills();
  const router = new Router(
    (subscriber, error) => log.error('could not deliver a message to', subscriber.clientId, error),
    nodeThreadId,
    (handedBack) => void bus.publish(handedBack, false).catch((error) => log.warn('could not hand a shared subscription message back to its group', error)),
    () => counters.add('publishDropped'),
  );
  const overload = new Overload(counters, undefined, () => history?.full ?? false);
  overload.start();
  if (history) setInterval(() => counters.set('historyPending', history.pending), HISTORY_PENDING_MS).unref();
  bus.listen(
    (message, position) => {
      if (!message.regroup) overload.routed(message.timestamp); // a handed-back message keeps its old timestamp
      router.route(message, position);
    },
    (notice) => {
      router.control(notice);
      if (notice.kind !== 'takeover') return;
      delayedWills.connected(notice.clientId, notice.cleanStart);
      if (notice.cleanStart) sessions.endedByCleanStart(notice.clientId, notice.connectionId).catch((error) => log.warn('could not discard the session of', notice.clientId, error));
    },
  );
  await publishOrphanWills(wills, publisher);
  const owner = `thread ${nodeThreadId} of process ${bootId}`;
  const bridges = await startBridges({ configured: config.bridges, database, messageLogTtl: config.messageLogTtl, bus, router, publisher, thread: nodeThreadId, first: workerIndex === 0, owner, isLive: (id) => counters.isLive(id) });
  const figures: FigureSources = { registry, retained, rules, sessions, history, counters, version: versionString(), bootId };
  const sources = await startSources(config, publisher, requestAccess);
  // One thread writes $SYS for the whole process.
  if (workerIndex === 0) {
    if (config.sysInterval > 0) {
      const bridgeStatuses = async () => (await bridges.list()).map(({ name, status }) => ({ name, status }));
      new SysUpdater({ ...figures, table: sysTable, bus, bridges: bridgeStatuses }).start(config.sysInterval);
    } else {
      await SysUpdater.clear(sysTable);
    }
  }
  const clients = new LiveClients();
  const board = await ClientsBoard.open(database, clients);
  board.start();
  const budgets = new CreationBudgets(config.tableCreationRate, config.tableCreationBurst);
  setInterval(() => budgets.sweep(), BUDGET_SWEEP_MS).unref();
  return {
    session: { config, router, registry, publisher, retained, bus, sessions, wills, delayedWills, counters, budgets, overload, clients, devices },
    figures,
    console: { retained, board, history, sources: sources.statuses, bridges },
    sources: sources.statuses,
    bridges,
  };
}

/** Moves this thread's counters into memory all threads share, so $SYS covers the whole process. */
function shareCounters(counters: Counters, bus: Bus): void {
  counters.attach(sharedBuffer(bus.table, `harper-mqtt-bridge/counters/${SHARED_BYTES}`, SHARED_BYTES), nodeThreadId);
  setInterval(() => counters.heartbeat(), HEARTBEAT_MS).unref();
  process.once('exit', () => counters.detach());
}

async function moveIntoConfigRules(config: BridgeConfig, retained: RetainedStore): Promise<void> {
  for (const rule of config.topicRules) {
    try {
      const moved = await retained.moveInto(rule);
      if (moved > 0) log.info(`moved ${moved} retained messages into ${rule.database}.${rule.table} (rule ${rule.pattern.source})`);
    } catch (error) {
      log.error(`could not move retained messages into ${rule.table}`, error);
    }
  }
}

/** Wills of connections that died with a thread or process, published now [MQTT-3.1.2-8]. */
async function publishOrphanWills(wills: WillStore, publisher: Publisher): Promise<void> {
  for await (const { clientId, will } of wills.orphans()) {
    try {
      // The user's permissions were checked when the will was set, at CONNECT.
      await publisher.publish({ ...will, clientId }, new Access(undefined, ''));
      log.info(`published the will of ${clientId}, whose connection ended with its thread or process`);
    } catch (error) {
      log.warn('could not publish the will of', clientId, error);
    }
    await wills.forget(clientId);
  }
}
