// Per-source metrics, one sample per source labelled `source`, from the statuses GET /mqtt_sources/
// answers with: the counts come from the committed position rows and the rest from memory all
// threads share, so whichever thread serves the scrape reports every source. Pure code.
import type { SourceStatus } from '../sources/status.js';
import { labelledFamilies, type Family, type LabelledMetric } from './exposition.js';

/** value() null: no sample for this source (refused, or not running). */
export type SourceMetric = LabelledMetric<SourceStatus>;

const seconds = (iso: string | undefined) => (iso === undefined ? null : Date.parse(iso) / 1000);

/** In the order of the output (docs/metrics.md lists the same). */
export const SOURCE_METRICS: readonly SourceMetric[] = [
  {
    name: 'mqtt_source_up',
    type: 'gauge',
    help: 'Source: 1 while a worker thread runs it; 0 while it starts, waits for its table or is refused.',
    value: (s) => (s.state === 'running' ? 1 : 0),
  },
  {
    name: 'mqtt_source_messages_published_total',
    type: 'counter',
    help: 'Source: messages published since the source was added (kept across restarts).',
    value: (s) => s.published ?? null,
  },
  {
    name: 'mqtt_source_changes_skipped_total',
    type: 'counter',
    help: 'Source: changes that made no message because of a problem (a template field missing, say).',
    value: (s) => s.skipped ?? null,
  },
  {
    name: 'mqtt_source_errors_total',
    type: 'counter',
    help: 'Source: errors while reading or publishing since HarperDB started.',
    value: (s) => (s.state === 'refused' ? null : (s.lastError?.count ?? 0)),
  },
  {
    name: 'mqtt_source_lag_seconds',
    type: 'gauge',
    help: "Source: how far behind its table's changes publishing was at its last read; 0 when caught up.",
    value: (s) => (s.lagMs === undefined ? null : s.lagMs / 1000),
  },
  {
    name: 'mqtt_source_last_change_timestamp_seconds',
    type: 'gauge',
    help: 'Source: commit time of the last change published, in seconds since the epoch.',
    value: (s) => seconds(s.lastChangeAt),
  },
];

export function sourceFamilies(statuses: readonly SourceStatus[], metrics: readonly SourceMetric[] = SOURCE_METRICS): Family[] {
  return labelledFamilies('source', statuses, (status) => status.name, metrics);
}
