import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { BRIDGE_METRICS, bridgeFamilies } from '../../src/metrics/bridgeMetrics.js';
import { renderFamilies } from '../../src/metrics/exposition.js';
import { listing } from '../helpers/bridgeListing.js';
import { expectDocumented } from '../helpers/metricsDoc.js';

const parsed = (text: string) => new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
const samples = (text: string, name: string) => Object.fromEntries(parsed(text).get(name)!.metrics.map((m) => [m.labels!.bridge, Number(m.value)]));

describe('bridge metrics', () => {
  const live = listing('cloud', { sent: 120, acknowledged: 118, received: 7, retried: 4, retrying: 1, deadLetters: { count: 2, byReason: { x: 2 } } });
  const down = listing('backup', { connected: false, state: 'connecting', pending: { messages: 30, bytes: 4096, oldestAgeMs: 2500, complete: true } });
  const text = renderFamilies(bridgeFamilies([live, down]));

  it('reports connection, counts, backlog, retries and dead letters as the statuses say', () => {
    // The rendering of labelled families is the sources' (see metrics.sources.test.ts); here, the values and their order.
    expect([...parsed(text).keys()]).toEqual(BRIDGE_METRICS.map((m) => m.name));
    expect(parsed(text).get('mqtt_bridge_messages_acknowledged_total')).toMatchObject({ type: 'COUNTER', help: 'Bridge: messages the remote broker acknowledged (QoS 1/2) or took (QoS 0).' });
    const all = Object.fromEntries(BRIDGE_METRICS.map((m) => [m.name, samples(text, m.name)]));
    expect(all).toEqual({
      mqtt_bridge_up: { cloud: 1, backup: 0 },
      mqtt_bridge_messages_sent_total: { cloud: 120, backup: 0 },
      mqtt_bridge_messages_acknowledged_total: { cloud: 118, backup: 0 },
      mqtt_bridge_messages_received_total: { cloud: 7, backup: 0 },
      mqtt_bridge_pending_messages: { cloud: 0, backup: 30 },
      mqtt_bridge_pending_bytes: { cloud: 0, backup: 4096 },
      mqtt_bridge_oldest_pending_age_seconds: { cloud: 0, backup: 2.5 },
      mqtt_bridge_retrying_messages: { cloud: 1, backup: 0 },
      mqtt_bridge_retries_total: { cloud: 4, backup: 0 },
      mqtt_bridge_dead_letters: { cloud: 2, backup: 0 },
    });
  });

  it('writes nothing without bridges', () => {
    expect(renderFamilies(bridgeFamilies([]))).toBe('');
  });

  it('never writes a spec field, only names and figures', () => {
    expect(text).not.toMatch(/mqtt:\/\/|Password|runtime/);
  });

  it('names counters *_total, and has every metric documented in docs/metrics.md with its type', () => {
    expectDocumented(BRIDGE_METRICS, 'mqtt_bridge_');
  });
});
