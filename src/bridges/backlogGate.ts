// Refusing local publishes for a bridge whose backlog is full and whose policy is `refuse`: a QoS
// 1/2 message from a client (MQTT, HTTP ingest) that one of its outbound rules matches is refused
// with 0x97 quota exceeded before anything is written. QoS 0 messages never join a backlog; messages
// of sources and of bridges' inbound rules are not refused (they have nobody to tell; they wait).
import { PublishRefused, type Inbound, type PublishGate } from '../publish.js';
import type { BacklogSignals } from './backlogSignal.js';
import { fromABridge, outboundFor } from './rules.js';
import type { BridgeSpec } from './spec.js';

export function backlogGate(refusing: () => readonly BridgeSpec[], signals: BacklogSignals): PublishGate {
  return (inbound: Inbound) => {
    const specs = refusing();
    if (specs.length === 0 || inbound.qos === 0 || fromABridge(inbound.clientId)) return null;
    for (const spec of specs) {
      const signal = signals.of(spec.name);
      if (!signal.full || !outboundFor(spec.outbound, inbound, spec.name)) continue;
      signal.refused();
      return new PublishRefused('quota-exceeded', `bridge ${spec.name}: its backlog to the remote is full (onBacklogFull: refuse)`);
    }
    return null;
  };
}
