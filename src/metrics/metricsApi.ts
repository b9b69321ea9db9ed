// GET /metrics on HarperDB's HTTP port: the broker's figures for Prometheus. HarperDB super users
// only, unless `metricsAnonymous` lets anyone read them (a scraper on a trusted network). Figures
// are read fresh at each scrape from every thread's shared counters, so any thread can answer.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { HttpError, requireAdmin, restResource } from '../harper/restResource.js';
import type { SysFigures } from '../sys/tree.js';
import { claim } from '../tables/ownership.js';
import { CONTENT_TYPE, renderMetrics } from './exposition.js';

export const METRICS_PATH = 'metrics';

export interface MetricsSource {
  /** Anyone may read the metrics, not only super users. */
  anonymous: boolean;
  /** null while this thread is starting (or the configuration is bad). */
  figures(): Promise<SysFigures> | null;
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
      return { contentType: CONTENT_TYPE, data: renderMetrics(await figures) };
    },
  });
  claim(resource);
  server.resources.set(METRICS_PATH, resource, { rest: true, mqtt: false });
}
