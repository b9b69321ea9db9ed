// GET /mqtt_history/ (and /mqtt_history/<id>): one row per message, with HarperDB's REST query
// language (conditions, sort, limit, offset, select; query.ts), read from the batch records.
// Read-only: messages enter through MQTT so that subscribers see them. Who may read: HarperDB super
// users, and users whose role may read the stored table; devices may not (they use /mqtt-telemetry/).
import { tableAllows } from '../authorize.js';
import { requestAccess, type RequestAccessOptions } from '../devices/requestAccess.js';
import { HttpError, restResource, type RestRequest } from '../harper/restResource.js';
import { READABLE_FIELDS } from '../messages.js';
import { claim } from '../tables/ownership.js';
import { MAX_SORTED_ROWS, planQuery, HistoryQueryError, type HistoryPlan, type HistoryTarget } from './query.js';
import type { HistoryReader } from './reader.js';

/** `stored`: the batch table, whose read permission lets a user read the history. */
export function historyView(history: HistoryReader, stored: { databaseName: string; tableName: string }, accessOptions: RequestAccessOptions): ReturnType<typeof restResource> {
  const refuse = (): never => {
    throw new HttpError(405, 'mqtt_history is read-only over REST; publish over MQTT instead');
  };
  const resource = restResource('mqtt_history', {
    get: async (request) => {
      const access = requestAccess(request.user, accessOptions);
      if (access.device || !tableAllows(request.user, stored.databaseName, stored.tableName, 'read')) throw new HttpError(403, 'not allowed to read the message history');
      const id = decodeURIComponent(request.path.replace(/^\//, ''));
      if (id !== '') {
        const row = await history.find(id);
        if (!row) throw new HttpError(404, `no message ${id} in the history`);
        return row; // with contentType and data: HarperDB answers with the exact bytes
      }
      return collection(history, request);
    },
    put: refuse,
    post: refuse,
    patch: refuse,
    delete: refuse,
  });
  claim(resource);
  return resource;
}

function collection(history: HistoryReader, request: RestRequest): AsyncIterable<unknown> {
  const target = request.query() as HistoryTarget;
  let plan: HistoryPlan;
  try {
    plan = planQuery({ ...pick(target), select: target.select ?? [...READABLE_FIELDS] });
  } catch (error) {
    if (error instanceof HistoryQueryError) throw new HttpError(400, error.message);
    throw error;
  }
  return plan.compare ? sorted(history, plan) : listed(history, plan);
}

/** The query's parts (a parsed target is URLSearchParams too: its `sort` is a method unless the query sorts). */
function pick(target: HistoryTarget): HistoryTarget {
  const sort = typeof target.sort === 'object' ? target.sort : undefined;
  return { conditions: target.conditions, operator: target.operator, sort, limit: target.limit, offset: target.offset };
}

async function* listed(history: HistoryReader, plan: HistoryPlan): AsyncIterable<unknown> {
  if (plan.limit === 0) return;
  let skipped = 0;
  let shown = 0;
  for await (const row of history.rows(plan)) {
    if (!plan.matches(row as unknown as Record<string, unknown>)) continue;
    if (skipped++ < plan.offset) continue;
    yield plan.shape(row as unknown as Record<string, unknown>);
    if (plan.limit !== null && ++shown >= plan.limit) return;
  }
}

async function* sorted(history: HistoryReader, plan: HistoryPlan): AsyncIterable<unknown> {
  const rows: Array<Record<string, unknown>> = [];
  for await (const historyRow of history.rows(plan)) {
    const row = historyRow as unknown as Record<string, unknown>;
    if (!plan.matches(row)) continue;
    if (rows.length >= MAX_SORTED_ROWS) {
      throw new HttpError(400, `sorting by a field other than id or timestamp takes at most ${MAX_SORTED_ROWS} messages; narrow the query (topic, timestamp) or sort by id or timestamp`);
    }
    rows.push(row);
  }
  rows.sort(plan.compare!);
  const end = plan.limit === null ? rows.length : plan.offset + plan.limit;
  for (const row of rows.slice(plan.offset, end)) yield plan.shape(row);
}
