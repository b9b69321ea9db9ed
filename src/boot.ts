// Opens the component's tables and services on this worker thread. Every thread runs it; the
// tables are shared, the routing state is per thread.
import { workerData } from 'node:worker_threads';
import { Access } from './authorize.js';
import { Bus } from './bus.js';
import type { BridgeConfig } from './config.js';
import { log } from './harper/log.js';
import { History } from './history.js';
import { Publisher } from './publish.js';
import { RetainedStore } from './retained.js';
import { Router } from './router.js';
import type { SessionServices } from './session/client.js';
import { SessionStore } from './session/store.js';
import { WillStore } from './session/wills.js';
import type { Counters } from './stats/counters.js';
import { TopicRegistry } from './tables/registry.js';

export const workerIndex: number = (workerData as { workerIndex?: number } | null)?.workerIndex ?? 0;
/** Same for every thread of one HarperDB process, different for the next process. */
export const bootId = `${process.pid}-${Math.round(Date.now() / 1000 - process.uptime())}`;

export async function startServices(config: BridgeConfig, counters: Counters): Promise<SessionServices> {
  const { database } = config;
  const bus = await Bus.open(database);
  const registry = await TopicRegistry.open(database, config.restTopicPaths, config.tablesPerDatabase);
  const retained = new RetainedStore(registry);
  const history = config.historyTtl > 0 ? await History.open(database, config.historyTtl) : null;
  const publisher = new Publisher(registry, retained, bus, history);
  const sessions = await SessionStore.open(database);
  const wills = await WillStore.open(database, workerIndex, bootId);
  const router = new Router();
  await bus.listen(
    (message, localTime) => router.route(message, localTime),
    (notice) => router.control(notice),
  );
  await publishOrphanWills(wills, publisher);
  return { config, router, registry, publisher, retained, bus, sessions, wills, counters };
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
