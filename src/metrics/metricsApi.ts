// GET /metrics on HarperDB's HTTP port: the broker's figures for Prometheus. HarperDB super users
// only, unless `metricsAnonymous` lets anyone read them (a scraper on a trusted network). Figures
// are read fresh at each scrape from every thread's shared counters, sources' from their
// position rows and shared slots, and bridges' from their tables, so any thread can answer.
import { server } from 'harperdb';
import type { BridgeListing } from '../bridges/api.js';
import { log } from '../harper/log.js';
import { HttpError, requireAdmin, restResource } from '../harper/restResource.js';
import type { SourceStatus } from '../sources/status.js';
import type { SysFigures } from '../sys/tree.js';
import { claim } from '../tables/ownership.js';
import { CONTENT_TYPE, renderFamilies, sysFamilies } from './exposition.js';
import { bridgeFamilies } from './bridgeMetrics.js';
import { sourceFamilies } from './sourceMetrics.js';

export const METRICS_PATH = 'metrics';

export interface MetricsSource {
  /** Anyone may read the metrics, not only super users. */
  anonymous: boolean;
  /** null while this thread is starting (or the configuration is bad). */
  figures(): Promise<SysFigures> | null;
  /** Every source's status (none when sources are off). */
  sources(): Promise<SourceStatus[]>;
  /** Every bridge with its status. */
  bridges(): Promise<BridgeListing[]>;
}

/** The broker's figures are still worth a scrape when a feature's cannot be read. */
function orNone<T>(read: Promise<T[]>, what: string): Promise<T[]> {
  return read.catch((error) => {
    log.warn(`metrics: could not read the ${what}`, error);
    return [];
  });
}

export function registerMetrics(source: MetricsSource): void {
  if (server.resources.get(METRICS_PATH)) {
    log.warn(`/${METRICS_PATH} serves something else; Prometheus metrics are not served`);
    return;
  }
  const resource = restResource(METRICS_PATH, {
    get: async (request) => {
      if (request.path !== '' && request.path !== '/') throw new HttpError(404, `no metrics at /${METRICS_PATH}${request.path}`);
      if (!source.anonymous) requireAdmin(request.user);
      const figures = source.figures();
      if (!figures) throw new HttpError(503, 'harper-mqtt-bridge is starting or not configured correctly (see the log)');
      const [sys, sources, bridges] = await Promise.all([figures, orNone(source.sources(), "sources' statuses"), orNone(source.bridges(), "bridges' statuses")]);
      return { contentType: CONTENT_TYPE, data: renderFamilies([...sysFamilies(sys), ...sourceFamilies(sources), ...bridgeFamilies(bridges)]) };
    },
  });
  claim(resource);
  server.resources.set(METRICS_PATH, resource, { rest: true, mqtt: false });
}
