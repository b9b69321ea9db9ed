import { readFileSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPE, METRICS, renderMetrics } from '../../src/metrics/exposition.js';
import { figures } from '../helpers/figures.js';

const parsed = (text: string) => new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));

describe('renderMetrics', () => {
  it('writes HELP, TYPE and one sample per metric, in the 0.0.4 text format', () => {
    const text = renderMetrics(
      figures({ clientsDisconnected: 2, offlineSubscriptions: 3, retainedMessages: 7, historyRows: 40 }, { clientsConnected: 4, subscriptions: 5, bytesSent: 1234, routingLagMs: 250, historyPending: 17 }),
    );
    expect(CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain(
      '# HELP mqtt_bytes_sent_total Bytes of MQTT packets sent to clients.\n# TYPE mqtt_bytes_sent_total counter\nmqtt_bytes_sent_total 1234\n',
    );
    expect(text).toContain('# TYPE mqtt_clients_connected gauge\nmqtt_clients_connected 4\n');
    const families = parsed(text);
    expect([...families.keys()]).toEqual(METRICS.map((metric) => metric.name));
    const value = (name: string) => Number(families.get(name)!.metrics[0]!.value);
    expect(value('mqtt_subscriptions')).toBe(8);
    expect(value('mqtt_clients_disconnected')).toBe(2);
    expect(value('mqtt_retained_messages')).toBe(7);
    expect(value('mqtt_history_rows')).toBe(40);
    expect(value('mqtt_history_pending_rows')).toBe(17);
    expect(value('mqtt_routing_lag_seconds')).toBe(0.25);
    expect(value('mqtt_uptime_seconds')).toBe(12.7);
    expect(families.get('mqtt_info')!.metrics[0]!.labels).toEqual({ version: 'harper-mqtt-bridge 1.2.3 on HarperDB 4.7.29' });
  });

  it('names counters *_total and types them counter, and nothing else', () => {
    for (const family of parsed(renderMetrics(figures())).values()) {
      expect(family.name).toMatch(/^mqtt_[a-z_]+$/);
      expect(family.type).toBe(family.name.endsWith('_total') ? 'COUNTER' : 'GAUGE');
    }
  });

  it('leaves out the history rows and their backlog when the history is off', () => {
    const families = parsed(renderMetrics(figures({ historyRows: null })));
    expect(families.has('mqtt_history_rows')).toBe(false);
    expect(families.has('mqtt_history_pending_rows')).toBe(false);
    expect(families.size).toBe(METRICS.length - 2);
  });

  it('reports the peak as at least the clients connected now', () => {
    const families = parsed(renderMetrics(figures({}, { clientsConnected: 9, clientsMaximum: 3 })));
    expect(families.get('mqtt_clients_maximum')!.metrics[0]!.value).toBe('9');
  });

  it('escapes label values and HELP text', () => {
    const text = renderMetrics(figures({ version: 'a "b" \\ c\nd' }), [
      { name: 'x_info', type: 'gauge', help: 'back\\slash\nnew line', value: () => 1, labels: (f) => ({ version: f.version }) },
      { name: 'x_nan', type: 'gauge', help: 'h', value: () => NaN },
      { name: 'x_inf', type: 'gauge', help: 'h', value: () => Infinity },
    ]);
    expect(text).toBe(
      '# HELP x_info back\\\\slash\\nnew line\n# TYPE x_info gauge\nx_info{version="a \\"b\\" \\\\ c\\nd"} 1\n' +
        '# HELP x_nan h\n# TYPE x_nan gauge\nx_nan NaN\n# HELP x_inf h\n# TYPE x_inf gauge\nx_inf +Inf\n',
    );
    expect(parsed(text).get('x_info')!.metrics[0]!.labels).toEqual({ version: 'a "b" \\ c\nd' });
  });

  it('has every metric documented in docs/metrics.md with its type', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    for (const metric of METRICS) expect(doc).toMatch(new RegExp(`\\| \`${metric.name}\` \\| ${metric.type} \\|`));
  });
});
