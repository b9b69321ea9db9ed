// The broker's figures in the Prometheus text exposition format (version 0.0.4): one HELP and TYPE
// line per metric, then its samples (one, or one per label set). Counters only go up (and restart from 0 with HarperDB), so
// Prometheus' rate() works on them; gauges are the current value. Pure code, no HarperDB.
import type { SysFigures } from '../sys/tree.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge';

export interface Metric {
  name: string;
  type: MetricType;
  help: string;
  /** null: not reported (a feature that is off). */
  value(figures: SysFigures): number | null;
  /** Labels of the one sample, if any. */
  labels?(figures: SysFigures): Record<string, string>;
}

const counter = (name: string, help: string, value: Metric['value']): Metric => ({ name, type: 'counter', help, value });
const gauge = (name: string, help: string, value: Metric['value']): Metric => ({ name, type: 'gauge', help, value });

/** Every metric, in the order of the output (docs/metrics.md lists the same). */
export const METRICS: readonly Metric[] = [
  {
    name: 'mqtt_info',
    type: 'gauge',
    help: 'Always 1; the label names the component and HarperDB versions.',
    value: () => 1,
    labels: (f) => ({ version: f.version }),
  },
  gauge('mqtt_uptime_seconds', 'Seconds since HarperDB started.', (f) => f.uptimeSeconds),
  gauge('mqtt_clients_connected', 'MQTT clients connected now.', (f) => f.counters.clientsConnected),
  gauge('mqtt_clients_disconnected', 'Persistent sessions whose client is not connected.', (f) => f.clientsDisconnected),
  gauge('mqtt_clients_maximum', 'Most clients connected at once since HarperDB started.', (f) => Math.max(f.counters.clientsMaximum, f.counters.clientsConnected)),
  counter('mqtt_clients_expired_total', 'Persistent sessions removed because their expiry interval passed.', (f) => f.counters.clientsExpired),
  counter('mqtt_connections_total', 'MQTT connections accepted (CONNACK sent with success).', (f) => f.counters.connectsTotal),
  counter('mqtt_sockets_total', 'Network connections opened (TCP, TLS, WebSocket).', (f) => f.counters.socketsTotal),
  counter('mqtt_messages_received_total', 'MQTT packets of any type received from clients.', (f) => f.counters.packetsReceived),
  counter('mqtt_messages_sent_total', 'MQTT packets of any type sent to clients.', (f) => f.counters.packetsSent),
  counter('mqtt_bytes_received_total', 'Bytes of MQTT packets received from clients.', (f) => f.counters.bytesReceived),
  counter('mqtt_bytes_sent_total', 'Bytes of MQTT packets sent to clients.', (f) => f.counters.bytesSent),
  counter('mqtt_publish_received_total', 'PUBLISH packets received from clients.', (f) => f.counters.publishReceived),
  counter('mqtt_publish_sent_total', 'PUBLISH packets sent to subscribers.', (f) => f.counters.publishSent),
  counter('mqtt_publish_dropped_total', 'Messages refused or not delivered (full queues, refused publishes, unencodable).', (f) => f.counters.publishDropped),
  counter('mqtt_publish_bytes_received_total', 'Payload bytes of PUBLISH packets received.', (f) => f.counters.publishBytesReceived),
  counter('mqtt_publish_bytes_sent_total', 'Payload bytes of PUBLISH packets sent.', (f) => f.counters.publishBytesSent),
  gauge('mqtt_subscriptions', 'Subscriptions of connected clients and of stored persistent sessions.', (f) => f.counters.subscriptions + f.offlineSubscriptions),
  gauge('mqtt_retained_messages', 'Retained messages (rows of topic and rule tables).', (f) => f.retainedMessages),
  gauge('mqtt_queued_messages', 'Messages queued for connected clients, not yet sent or acknowledged.', (f) => f.counters.storedMessages),
  gauge('mqtt_queued_bytes', 'Payload bytes of the queued messages.', (f) => f.counters.storedBytes),
  gauge('mqtt_routing_lag_seconds', 'How far routing runs behind the newest message, slowest thread.', (f) => f.counters.routingLagMs / 1000),
  gauge('mqtt_topic_tables', 'Topic tables (one per topic prefix).', (f) => f.topicTables),
  counter('mqtt_topic_tables_created_total', 'Topic tables created since HarperDB started.', (f) => f.counters.tablesCreated),
  counter('mqtt_topic_tables_refused_total', 'Retained messages refused because their new table was over a creation limit.', (f) => f.counters.tablesRefused),
  gauge('mqtt_table_rules', 'Table rules in force (config.yaml and runtime).', (f) => f.tableRules),
  gauge('mqtt_topic_table_fanout_parents', 'Parent levels with more sibling topic tables than fanOutWarning.', (f) => f.fanOut.length),
  gauge('mqtt_history_rows', 'Rows of the message history table (absent when the history is off).', (f) => f.historyRows),
  gauge('mqtt_history_pending_rows', 'History rows not written yet: they are written behind bursts, and publishers are slowed past 200,000 per thread (absent when the history is off).', (f) => (f.historyRows === null ? null : f.counters.historyPending)),
];

/** One metric's samples, as written under its HELP and TYPE lines. */
export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

/** Backslash and newline escaped, as the format wants in HELP text. */
const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** Backslash, double quote and newline escaped, as the format wants in label values. */
const escapeLabel = (text: string) => escapeHelp(text).replace(/"/g, '\\"');

/** Integers as integers; Prometheus' own spellings for the non-finite. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

const labelText = (labels: Record<string, string> | undefined) =>
  labels ? '{' + Object.entries(labels).map(([key, label]) => `${key}="${escapeLabel(label)}"`).join(',') + '}' : '';

/** Families without samples are left out (a feature that is off, no sources). */
export function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const { name, type, help, samples } of families) {
    if (samples.length === 0) continue;
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const sample of samples) lines.push(`${name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/** The broker-wide metrics: one sample each. */
export function sysFamilies(figures: SysFigures, metrics: readonly Metric[] = METRICS): Family[] {
  return metrics.map(({ name, type, help, value, labels }) => {
    const current = value(figures);
    return { name, type, help, samples: current === null ? [] : [{ labels: labels?.(figures), value: current }] };
  });
}

export function renderMetrics(figures: SysFigures, metrics: readonly Metric[] = METRICS): string {
  return renderFamilies(sysFamilies(figures, metrics));
}

/** A metric with one sample per item (a source, a bridge), labelled with the item's name. */
export interface LabelledMetric<T> {
  name: string;
  type: MetricType;
  help: string;
  /** null: no sample for this item. */
  value(item: T): number | null;
}

export function labelledFamilies<T>(label: string, items: readonly T[], nameOf: (item: T) => string, metrics: readonly LabelledMetric<T>[]): Family[] {
  return metrics.map(({ name, type, help, value }) => ({
    name,
    type,
    help,
    samples: items.flatMap((item) => {
      const current = value(item);
      return current === null ? [] : [{ labels: { [label]: nameOf(item) }, value: current }];
    }),
  }));
}
