// Inbound: the remote's messages on the inbound rules' filters are published into this broker
// (Publisher.publish: local subscribers, topic tables, history), marked with the bridge's origin
// so outbound rules never send them back. The remote gets its PUBACK/PUBCOMP only once the local
// publish is committed (MQTT.js waits for handleMessage's callback).
import type { MqttClient } from 'mqtt';
import { Access } from '../authorize.js';
import { forwardedProperties, type QoS } from '../messages.js';
import type { Publisher } from '../publish.js';
import { bridgeOrigin, inboundFor } from './rules.js';
import type { BridgeSpec } from './spec.js';
import type { BridgeFigures } from './tables.js';

interface ReceivedPacket {
  topic: string;
  payload: Buffer | string;
  qos: QoS;
  retain: boolean;
  properties?: Record<string, unknown>;
}

export function subscribeInbound(client: MqttClient, spec: BridgeSpec): void {
  if (spec.inbound.length === 0) return;
  // No Local: the remote does not send back what this bridge published there [MQTT-3.8.3-3].
  // Retain As Published: a retained message stays retained here (a row in its topic table).
  const options = spec.protocol === 5 ? { nl: true, rap: true } : {};
  client.subscribe(Object.fromEntries(spec.inbound.map((rule) => [rule.filter, { qos: rule.qos, ...options }])));
}

export function receiveInbound(client: MqttClient, spec: BridgeSpec, publisher: Publisher, database: string, figures: BridgeFigures, failed: (what: string, error: unknown) => void): void {
  const access = new Access(undefined, database);
  const origin = bridgeOrigin(spec.name);
  client.handleMessage = (packet, callback) => {
    const received = packet as unknown as ReceivedPacket;
    const local = inboundFor(spec.inbound, received.topic);
    if (!local) return callback();
    const payload = Buffer.isBuffer(received.payload) ? received.payload : Buffer.from(received.payload);
    const inbound = { topic: local.topic, payload, qos: Math.min(local.qos, received.qos) as QoS, retain: received.retain, clientId: origin, properties: forwardedProperties(received.properties) };
    publisher.publish(inbound, access).then(
      () => {
        figures.received++;
        callback();
      },
      (error: unknown) => {
        figures.inboundFailed++;
        failed(`publishing ${received.topic} locally as ${local.topic}`, error);
        // Unacknowledged: the remote sends it again on the next connection.
        callback(error as Error);
      },
    );
  };
}
