import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { renderFamilies, sysFamilies } from '../../src/metrics/exposition.js';
import { SOURCE_METRICS, sourceFamilies } from '../../src/metrics/sourceMetrics.js';
import type { SourceStatus } from '../../src/sources/status.js';
import { figures } from '../helpers/figures.js';
import { expectDocumented } from '../helpers/metricsDoc.js';

const running: SourceStatus = {
  name: 'orders.erp-1',
  origin: 'runtime',
  state: 'running',
  thread: 3,
  published: 42,
  skipped: 2,
  lastChangeAt: '2026-01-02T03:04:05.250Z',
  lagMs: 1500,
  caughtUp: false,
  lastError: { message: 'boom', at: '2026-01-02T03:04:06.000Z', count: 3 },
};
const waiting: SourceStatus = { name: 'late', origin: 'config', state: 'waiting for table', published: 0, skipped: 0 };
const refused: SourceStatus = { name: 'bad', origin: 'config', state: 'refused', error: 'qos must be 0, 1 or 2' };

const parsed = (text: string) => new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
const samples = (text: string, name: string) => Object.fromEntries(parsed(text).get(name)!.metrics.map((m) => [m.labels!.source, Number(m.value)]));

describe('source metrics', () => {
  const text = renderFamilies(sourceFamilies([running, waiting, refused]));

  it('writes one sample per source, labelled with its name, under one HELP and TYPE', () => {
    expect(text).toContain(
      '# HELP mqtt_source_messages_published_total Source: messages published since the source was added (kept across restarts).\n' +
        '# TYPE mqtt_source_messages_published_total counter\n' +
        'mqtt_source_messages_published_total{source="orders.erp-1"} 42\n' +
        'mqtt_source_messages_published_total{source="late"} 0\n',
    );
    expect([...parsed(text).keys()]).toEqual(SOURCE_METRICS.map((m) => m.name));
  });

  it('reports up, counts, errors, lag and last change as the statuses say', () => {
    expect(samples(text, 'mqtt_source_up')).toEqual({ 'orders.erp-1': 1, late: 0, bad: 0 });
    expect(samples(text, 'mqtt_source_changes_skipped_total')).toEqual({ 'orders.erp-1': 2, late: 0 });
    expect(samples(text, 'mqtt_source_errors_total')).toEqual({ 'orders.erp-1': 3, late: 0 });
    // Lag only for a running source: the others have no reading.
    expect(samples(text, 'mqtt_source_lag_seconds')).toEqual({ 'orders.erp-1': 1.5 });
    expect(samples(text, 'mqtt_source_last_change_timestamp_seconds')).toEqual({ 'orders.erp-1': 1767323045.25 });
  });

  it('writes nothing without sources, so the output is the broker metrics alone', () => {
    expect(renderFamilies(sourceFamilies([]))).toBe('');
    const sys = sysFamilies(figures());
    expect(renderFamilies([...sys, ...sourceFamilies([])])).toBe(renderFamilies(sys));
  });

  it('escapes label values', () => {
    const odd = renderFamilies(sourceFamilies([{ ...waiting, name: 'a"b\\c\nd' }], [SOURCE_METRICS[0]!]));
    expect(odd).toContain('mqtt_source_up{source="a\\"b\\\\c\\nd"} 0\n');
    expect(parsed(odd).get('mqtt_source_up')!.metrics[0]!.labels).toEqual({ source: 'a"b\\c\nd' });
  });

  it('names counters *_total, and has every metric documented in docs/metrics.md with its type', () => {
    expectDocumented(SOURCE_METRICS, 'mqtt_source_');
  });
});
