// GET /mqtt-telemetry/?topic=<filter>&limit=<n>&from=<time>&to=<time> (docs/http-ingest.md): the
// newest messages of a topic or filter from the history, JSON payloads parsed, only topics the
// caller may read (a device: its prefixes). Devices authenticate as for ingest (Basic, or Bearer
// password with X-Username).
import { server } from 'harperdb';
import { requestAccess, type RequestAccessOptions } from '../devices/requestAccess.js';
import { HttpError, restResource } from '../harper/restResource.js';
import type { History } from '../history/store.js';
import type { MessageRow } from '../messages.js';
import type { RetainedStore } from '../retained.js';
import { claim } from '../tables/ownership.js';
import { topicMatches } from '../topics/match.js';
import { readTelemetryQuery, TelemetryQueryError } from './telemetryQuery.js';

export const TELEMETRY_PATH = 'mqtt-telemetry';

export function registerTelemetryApi(history: History | null, retained: RetainedStore, accessOptions: RequestAccessOptions): void {
  const resource = restResource(TELEMETRY_PATH, {
    get: async (request) => {
      const access = requestAccess(request.user, accessOptions);
      if (!history) throw new HttpError(404, 'the message history is off (historyTtl: 0)');
      let query;
      try {
        query = readTelemetryQuery(request.search);
      } catch (error) {
        if (error instanceof TelemetryQueryError) throw new HttpError(400, error.message);
        throw error;
      }
      if (!access.maySubscribe(query.filter)) throw new HttpError(403, `not allowed to read ${query.filter}`);
      const rows: MessageRow[] = [];
      for await (const row of history.search(query.filter, query.from, query.to)) {
        if (!topicMatches(query.filter, row.topic) || !access.mayRead(row.topic, () => retained.tableName(row.topic))) continue;
        rows.push(row);
        if (rows.length >= query.limit) break;
      }
      return rows;
    },
  });
  claim(resource);
  server.resources.set(TELEMETRY_PATH, resource, { rest: true, mqtt: false });
}
