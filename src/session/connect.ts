// What a CONNECT packet asks for, read once when HarperDB passes it to `authorizeClient`,
// and kept until the matching session object appears in the `connected` event.
import { randomBytes } from 'node:crypto';
import { forwardedProperties, type ForwardedProperties, type QoS } from '../messages.js';
import { isSysTopic, topicNameProblem } from '../topics/validate.js';

export interface WillMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: ForwardedProperties;
}

export interface ConnectInfo {
  clientId: string;
  protocolVersion: 3 | 4 | 5;
  /** Start without any stored session state. */
  cleanStart: boolean;
  /** Session state outlives the connection. */
  persistent: boolean;
  /** Seconds a disconnected persistent session is kept; null: forever. */
  sessionExpiry: number | null;
  will?: WillMessage;
  /** MQTT 5 Receive Maximum: QoS 1/2 messages the client accepts unacknowledged. */
  receiveMaximum?: number;
  maximumPacketSize?: number;
}

/** Thrown from `authorizeClient`: HarperDB answers with a CONNACK carrying `code`. */
export class ConnectRefused extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface ConnectPacket {
  clientId?: string;
  protocolVersion?: number;
  clean?: boolean;
  will?: { topic: string; payload?: Buffer; qos?: number; retain?: boolean; properties?: Record<string, unknown> };
  properties?: { sessionExpiryInterval?: number; receiveMaximum?: number; maximumPacketSize?: number };
}

const NEVER_EXPIRES = 0xffffffff;

/**
 * Reads (and adjusts) a CONNECT packet: assigns an id to an anonymous clean client, and takes the
 * will away from HarperDB so that this component publishes it through its own routing.
 */
export function readConnect(packet: ConnectPacket): ConnectInfo {
  const protocolVersion = (packet.protocolVersion === 3 || packet.protocolVersion === 5 ? packet.protocolVersion : 4) as 3 | 4 | 5;
  const v5 = protocolVersion === 5;
  const cleanStart = packet.clean !== false;
  let persistent: boolean;
  let sessionExpiry: number | null;
  if (v5) {
    const interval = packet.properties?.sessionExpiryInterval ?? 0;
    persistent = interval > 0;
    sessionExpiry = interval >= NEVER_EXPIRES ? null : interval;
  } else {
    persistent = !cleanStart;
    sessionExpiry = persistent ? null : 0;
  }

  if (!packet.clientId) {
    // [MQTT-3.1.3-8]: an empty id with a persistent session is refused in 3.1.1; MQTT 3.1 needs an id.
    if ((!v5 && persistent) || protocolVersion === 3) throw new ConnectRefused('a client id is required', 0x02);
    packet.clientId = 'auto-' + randomBytes(9).toString('base64url');
  }

  const info: ConnectInfo = { clientId: packet.clientId, protocolVersion, cleanStart, persistent, sessionExpiry };
  if (v5 && packet.properties?.receiveMaximum) info.receiveMaximum = packet.properties.receiveMaximum;
  if (v5 && packet.properties?.maximumPacketSize) info.maximumPacketSize = packet.properties.maximumPacketSize;

  const will = packet.will;
  if (will) {
    const problem = topicNameProblem(will.topic) ?? (isSysTopic(will.topic) ? 'will topic is in $SYS' : null);
    if (problem) throw new ConnectRefused(`invalid will: ${problem}`, v5 ? 0x90 : 0x05);
    info.will = {
      topic: will.topic,
      payload: will.payload ?? Buffer.alloc(0),
      qos: Math.min(2, Math.max(0, will.qos ?? 0)) as QoS,
      retain: will.retain === true,
    };
    const properties = forwardedProperties(will.properties);
    if (properties) info.will.properties = properties;
    delete packet.will;
  }
  return info;
}

/** CONNECT packets seen by `authorizeClient`, waiting for their `connected` event. */
export class PendingConnects {
  private readonly byClientId = new Map<string, Array<{ info: ConnectInfo; at: number }>>();

  add(info: ConnectInfo): void {
    const list = this.byClientId.get(info.clientId);
    const entry = { info, at: Date.now() };
    if (list) list.push(entry);
    else this.byClientId.set(info.clientId, [entry]);
    if (this.byClientId.size > 1024) this.prune();
  }

  take(clientId: string): ConnectInfo | undefined {
    const list = this.byClientId.get(clientId);
    const entry = list?.shift();
    if (list && list.length === 0) this.byClientId.delete(clientId);
    return entry?.info;
  }

  /** Drops CONNECTs whose session never appeared (HarperDB refused them after us). */
  private prune(maxAgeMs = 60_000): void {
    const cutoff = Date.now() - maxAgeMs;
    for (const [clientId, list] of this.byClientId) {
      while (list.length > 0 && list[0]!.at < cutoff) list.shift();
      if (list.length === 0) this.byClientId.delete(clientId);
    }
  }
}
