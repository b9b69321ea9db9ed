// server.mqtt as other components know it from HarperDB's own MQTT server: `events` (connection,
// connected, auth-failed, disconnected, error), the `sessions` set and an optional
// `authorizeClient(packet, user)`. HarperDB creates it when its `mqtt` settings exist (even with its
// listeners off); otherwise this component does, in the same shape.
import { EventEmitter } from 'node:events';
import { server } from 'harperdb';
import type { MqttCompat } from './connection.js';

export function mqttCompat(requireAuthentication: boolean): MqttCompat {
  const holder = server as unknown as { mqtt?: Partial<MqttCompat> & { requireAuthentication?: boolean } };
  if (!holder.mqtt || !(holder.mqtt.events instanceof EventEmitter) || !(holder.mqtt.sessions instanceof Set)) {
    const events = new EventEmitter();
    events.on('error', () => undefined); // an 'error' nobody listens to must not throw
    holder.mqtt = { requireAuthentication, sessions: new Set(), events };
  }
  return holder.mqtt as MqttCompat;
}
