// Opens the component's tables and services on this worker thread. Every thread runs it; the
// tables are shared, the routing state is per thread.
import { Access } from './authorize.js';
import { Bus } from './bus.js';
import type { BridgeConfig } from './config.js';
import { log } from './harper/log.js';
import { sharedBuffer } from './harper/sharedMemory.js';
import { bootId, nodeThreadId, workerIndex } from './harper/thread.js';
import { History } from './history.js';
import { Publisher } from './publish.js';
import { RetainedStore } from './retained.js';
import { Router } from './router.js';
import type { SessionServices } from './session/client.js';
import { SessionStore } from './session/store.js';
import { WillStore } from './session/wills.js';
import { HEARTBEAT_MS, SHARED_BYTES, type Counters } from './stats/counters.js';
import { openSysTable, sysRetainedSource } from './sys/sysTable.js';
import { SysUpdater } from './sys/updater.js';
import { versionString } from './sys/version.js';
import { TopicRegistry } from './tables/registry.js';

export async function startServices(config: BridgeConfig, counters: Counters): Promise<SessionServices> {
  const { database } = config;
  const bus = await Bus.open(database);
  shareCounters(counters, bus);
  const registry = await TopicRegistry.open(database, config.restTopicPaths, config.tablesPerDatabase, () => counters.add('tablesCreated'));
  const sysTable = openSysTable();
  const retained = new RetainedStore(registry);
  retained.addSource(sysRetainedSource(sysTable));
  const history = config.historyTtl > 0 ? await History.open(database, config.historyTtl) : null;
  const publisher = new Publisher(registry, retained, bus, history);
  const sessions = await SessionStore.open(database);
  const wills = await WillStore.open(database, workerIndex, bootId);
  const router = new Router((subscriber, error) => log.error('could not deliver a message to', subscriber.clientId, error));
  await bus.listen(
    (message, localTime) => router.route(message, localTime),
    (notice) => router.control(notice),
  );
  await publishOrphanWills(wills, publisher);
  // One thread writes $SYS for the whole process.
  if (workerIndex === 0) {
    if (config.sysInterval > 0) {
      new SysUpdater({ table: sysTable, bus, registry, sessions, history, counters, version: versionString(), bootId }).start(config.sysInterval);
    } else {
      await SysUpdater.clear(sysTable);
    }
  }
  return { config, router, registry, publisher, retained, bus, sessions, wills, counters };
}

/** Moves this thread's counters into memory all threads share, so $SYS covers the whole process. */
function shareCounters(counters: Counters, bus: Bus): void {
  counters.attach(sharedBuffer(bus.table, `harper-mqtt-bridge/counters/${SHARED_BYTES}`, SHARED_BYTES), nodeThreadId);
  setInterval(() => counters.heartbeat(), HEARTBEAT_MS).unref();
  process.once('exit', () => counters.detach());
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
