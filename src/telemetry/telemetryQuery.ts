// A telemetry query (seed 004's queryTelemetry) from the query string of
// GET /mqtt-telemetry/?topic=<filter>&limit=<n>&from=<time>&to=<time>: the newest messages first.
// Pure code, no HarperDB.
import { topicFilterProblem } from '../topics/validate.js';

export interface TelemetryQuery {
  filter: string;
  limit: number;
  /** Epoch ms, inclusive; null: open. */
  from: number | null;
  to: number | null;
}

export class TelemetryQueryError extends Error {}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 10_000;

function readTime(value: string | null, name: string): number | null {
  if (value === null || value === '') return null;
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(time)) throw new TelemetryQueryError(`${name} must be an ISO 8601 time or epoch milliseconds`);
  return time;
}

export function readTelemetryQuery(search: string): TelemetryQuery {
  const params = new URLSearchParams(search);
  const known = new Set(['topic', 'limit', 'from', 'to']);
  for (const key of params.keys()) if (!known.has(key)) throw new TelemetryQueryError(`unknown parameter ${key}; accepted: topic, limit, from, to`);
  const filter = params.get('topic');
  if (!filter) throw new TelemetryQueryError('topic is required: a topic or filter, e.g. topic=org_acme/devices/d1/%23');
  const problem = topicFilterProblem(filter);
  if (problem) throw new TelemetryQueryError(`topic: ${problem}`);
  const limitText = params.get('limit');
  const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new TelemetryQueryError(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  const from = readTime(params.get('from'), 'from');
  const to = readTime(params.get('to'), 'to');
  if (from !== null && to !== null && from > to) throw new TelemetryQueryError('from is after to');
  return { filter, limit, from, to };
}

/** The topic levels before the first wildcard, with their trailing '/': what every match starts with. */
export function literalPrefix(filter: string): string {
  const levels = filter.split('/');
  const wildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (wildcard === -1) return filter;
  return levels.slice(0, wildcard).map((level) => level + '/').join('');
}
