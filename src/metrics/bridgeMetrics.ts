// Per-bridge metrics, one sample per bridge labelled `bridge`, from the listings GET /mqtt_bridges/
// answers with: figures and connection state as the running bridge saved them, backlog and dead
// letters counted from tables, so whichever thread serves the scrape reports every bridge. Pure code.
import type { BridgeListing } from '../bridges/api.js';
import { labelledFamilies, type Family, type LabelledMetric } from './exposition.js';

export type BridgeMetric = LabelledMetric<BridgeListing>;

const status = (read: (s: BridgeListing['status']) => number): BridgeMetric['value'] => (bridge) => read(bridge.status);

/** In the order of the output (docs/metrics.md lists the same). */
export const BRIDGE_METRICS: readonly BridgeMetric[] = [
  { name: 'mqtt_bridge_up', type: 'gauge', help: 'Bridge: 1 while connected to its remote broker, else 0.', value: status((s) => (s.connected ? 1 : 0)) },
  { name: 'mqtt_bridge_messages_sent_total', type: 'counter', help: 'Bridge: messages sent to the remote broker since the bridge was added.', value: status((s) => s.sent) },
  { name: 'mqtt_bridge_messages_acknowledged_total', type: 'counter', help: 'Bridge: messages the remote broker acknowledged (QoS 1/2) or took (QoS 0).', value: status((s) => s.acknowledged) },
  { name: 'mqtt_bridge_messages_received_total', type: 'counter', help: 'Bridge: messages received from the remote broker (inbound rules).', value: status((s) => s.received) },
  { name: 'mqtt_bridge_pending_messages', type: 'gauge', help: 'Bridge: messages of the log waiting to be sent (backlog).', value: status((s) => s.pending.messages) },
  { name: 'mqtt_bridge_pending_bytes', type: 'gauge', help: 'Bridge: payload bytes of the backlog.', value: status((s) => s.pending.bytes) },
  { name: 'mqtt_bridge_oldest_pending_age_seconds', type: 'gauge', help: 'Bridge: age of the oldest message of the backlog; 0 when there is none.', value: status((s) => (s.pending.oldestAgeMs ?? 0) / 1000) },
  { name: 'mqtt_bridge_retrying_messages', type: 'gauge', help: 'Bridge: refused messages waiting for their next attempt.', value: status((s) => s.retrying) },
  { name: 'mqtt_bridge_retries_total', type: 'counter', help: 'Bridge: attempts to send a refused message again.', value: status((s) => s.retried) },
  { name: 'mqtt_bridge_dead_letters', type: 'gauge', help: 'Bridge: dead letters kept (refused maxAttempts times), waiting to be replayed or to expire.', value: status((s) => s.deadLetters.count) },
];

export function bridgeFamilies(bridges: readonly BridgeListing[], metrics: readonly BridgeMetric[] = BRIDGE_METRICS): Family[] {
  return labelledFamilies('bridge', bridges, (bridge) => bridge.name, metrics);
}
