// GET /mqtt-console/api/sources: the statuses GET /mqtt_sources/ answers with, flattened into what
// the console's Sources panel shows (epoch ms, null for what a source does not have). Pure code.
import type { SourceStatus } from '../sources/status.js';
import type { SourceView } from './web/api.js';

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const epoch = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso));

export function sourceView(status: SourceStatus): SourceView {
  const spec = status.definition ?? {};
  const table = text(spec.table);
  return {
    name: status.name,
    origin: status.origin,
    state: status.state,
    table: table && spec.database ? `${text(spec.database)}.${table}` : table,
    mode: status.definition ? text(spec.mode) || 'event' : '',
    topic: text(spec.topic),
    thread: status.thread ?? null,
    published: status.published ?? null,
    skipped: status.skipped ?? null,
    lagMs: status.lagMs ?? null,
    position: epoch(status.position),
    lastChangeAt: epoch(status.lastChangeAt),
    refused: status.error ?? null,
    lastError: status.lastError ? { message: status.lastError.message, at: Date.parse(status.lastError.at), count: status.lastError.count } : null,
  };
}
