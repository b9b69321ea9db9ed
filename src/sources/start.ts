// Starts sources and the publish API on this worker thread (called from boot.ts).
import { server } from 'harperdb';
import type { BridgeConfig } from '../config.js';
import type { RequestAccessOptions } from '../devices/requestAccess.js';
import { log } from '../harper/log.js';
import { openTable } from '../harper/tables.js';
import { nodeThreadId, workerIndex } from '../harper/thread.js';
import type { Publisher } from '../publish.js';
import { checkAuditInternals } from './auditLog.js';
import { Positions } from './positions.js';
import { SentRows } from './sentRows.js';
import { PublishApi } from './publishApi.js';
import { registerRestPublish } from './restPublish.js';
import { registerSourcesApi, type SourceStatuses } from './sourcesApi.js';
import { SourceStore, SOURCES_TABLE } from './sourceStore.js';
import { Supervisor } from './supervisor.js';

const DAY_SECONDS = 86_400;

export interface StartedSources {
  api: PublishApi;
  /** null: sources are off (HarperDB internals they read are missing). */
  statuses: SourceStatuses | null;
}

/** `access`: how HTTP requests are authorized (POST /mqtt_publish/). */
export async function startSources(config: BridgeConfig, publisher: Publisher, access: RequestAccessOptions): Promise<StartedSources> {
  const { database } = config;
  const api = new PublishApi(publisher);
  api.install();
  registerRestPublish(api, access);
  const positions = await Positions.open(database);
  // Tracking rows (sources with track: true) expire like the history, or after a day when it is off.
  const sent = await SentRows.open(database, config.historyTtl || DAY_SECONDS);
  const store = await SourceStore.open(database, config.sources, positions);
  // The change feed is read through HarperDB internals: check once, on a table that has an audit log.
  // Without them sources stay off; the broker and the publish API still serve.
  try {
    checkAuditInternals(openTable(database, SOURCES_TABLE));
  } catch (error) {
    if (workerIndex === 0) log.error(`sources are off: ${(error as Error).message}`);
    return { api, statuses: null };
  }
  const workerCount = (server as { workerCount?: number }).workerCount ?? 1;
  const supervisor = new Supervisor(store, positions, sent, publisher, { me: nodeThreadId, workerIndex, workerCount });
  const statuses = registerSourcesApi(store, positions, sent, (name) => supervisor.slot(name), database);
  if (workerIndex === 0) {
    for (const refused of store.refused()) log.error(`source refused: ${refused.error}`);
    const forgotten = await store.forgetRemoved();
    if (forgotten > 0) log.info(`forgot the positions of ${forgotten} source(s) no longer configured`);
  }
  supervisor.start();
  return { api, statuses };
}
