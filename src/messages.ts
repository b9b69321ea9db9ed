// The message as it travels between threads, and the rows it becomes in topic and history tables.
import { viewPayload, type PayloadFormat } from './topics/payload.js';
import type { Membership } from './shared/groups.js';

export type QoS = 0 | 1 | 2;

/**
 * MQTT 5 PUBLISH properties a broker forwards to subscribers [MQTT-3.3.2-*], in the form they
 * travel on the bus and are stored in tables: user properties as an ordered list of name/value
 * pairs (MQTT allows a name more than once), so no record ever has keys chosen by a client.
 */
export interface ForwardedProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Array<[string, string]>;
}

export interface BusMessage {
  topic: string;
  /** The exact payload bytes. */
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** Publishing client id, '' for messages the broker makes itself. */
  clientId: string;
  /** Milliseconds since the epoch when the broker accepted the message. */
  timestamp: number;
  properties?: ForwardedProperties;
  /** Not a message: a shared-subscription join or leave, routed in bus order on every thread. */
  membership?: Membership;
  /** A shared subscription's message handed back to its group: for one member of that group only. */
  regroup?: Regroup;
}

/**
 * A QoS 1/2 message its chosen group member did not take (it left first, or its session ended
 * unacknowledged), travelling again to go to another member [MQTT-4.8.2]. `position` is the
 * message's own place in the bus log, where a persistent session finds it again; `hops` counts
 * hand-backs, which end (the message is dropped and counted) after MAX_REGROUP_HOPS (router.ts).
 */
export interface Regroup {
  group: string;
  filter: string;
  position: number;
  hops: number;
  /** The thread that handed it back: the one that counts it if the group is gone. */
  from: number;
}

/** User properties as mqtt-packet parses and generates them: repeated names hold an array. */
type PacketUserProperties = Record<string, string | string[]>;

/** The forwardable subset of incoming PUBLISH properties (topic aliases and the like stay behind). */
export function forwardedProperties(properties: Record<string, unknown> | undefined): ForwardedProperties | undefined {
  if (!properties) return undefined;
  const user = properties.userProperties as PacketUserProperties | undefined;
  return readProperties({
    ...properties,
    userProperties: user ? Object.entries(user).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => [name, v])) : undefined,
  });
}

/** Bytes as a Buffer: stored binary can come back from HarperDB as a plain Uint8Array (copied, to own it). */
export function asBuffer(bytes: Uint8Array | string): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
}

/**
 * Stored properties, read field by field into plain values: a record HarperDB decodes keeps its
 * fields behind getters (nothing to spread) and may hand binary back as a Uint8Array.
 */
export function readProperties(stored: unknown): ForwardedProperties | undefined {
  if (stored == null || typeof stored !== 'object') return undefined;
  const raw = stored as Record<string, unknown>;
  const kept: ForwardedProperties = {};
  if (typeof raw.payloadFormatIndicator === 'boolean') kept.payloadFormatIndicator = raw.payloadFormatIndicator;
  if (typeof raw.messageExpiryInterval === 'number') kept.messageExpiryInterval = raw.messageExpiryInterval;
  if (typeof raw.contentType === 'string') kept.contentType = raw.contentType;
  if (typeof raw.responseTopic === 'string') kept.responseTopic = raw.responseTopic;
  if (raw.correlationData instanceof Uint8Array) kept.correlationData = asBuffer(raw.correlationData);
  if (Array.isArray(raw.userProperties) && raw.userProperties.length > 0) {
    kept.userProperties = raw.userProperties.map((pair: unknown[]) => [String(pair[0]), String(pair[1])]);
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** A message as another thread or a table hands it back, with plain Buffers and properties. */
export function readBusMessage(stored: BusMessage): BusMessage {
  const message: BusMessage = {
    topic: stored.topic,
    payload: asBuffer(stored.payload),
    qos: stored.qos,
    retain: stored.retain,
    clientId: stored.clientId,
    timestamp: stored.timestamp,
  };
  const properties = readProperties(stored.properties);
  if (properties) message.properties = properties;
  const membership = stored.membership;
  if (membership) message.membership = { group: membership.group, filter: membership.filter, member: membership.member, thread: membership.thread, join: membership.join };
  const regroup = stored.regroup;
  if (regroup) message.regroup = { group: regroup.group, filter: regroup.filter, position: regroup.position, hops: regroup.hops, from: regroup.from };
  return message;
}

/**
 * PUBLISH properties for a delivery, as mqtt-packet takes them, or null when the message has
 * expired: the expiry interval counts down while the broker holds the message [MQTT-3.3.2-6].
 */
export function propertiesForDelivery(message: BusMessage, now: number): Record<string, unknown> | undefined | null {
  const properties = message.properties;
  if (!properties) return undefined;
  const packet: Record<string, unknown> = { ...properties };
  if (properties.messageExpiryInterval !== undefined) {
    const remaining = properties.messageExpiryInterval - Math.floor((now - message.timestamp) / 1000);
    if (remaining <= 0) return null;
    packet.messageExpiryInterval = remaining;
  }
  if (properties.userProperties) {
    const user: PacketUserProperties = Object.create(null); // a name like __proto__ stays a name
    for (const [name, value] of properties.userProperties) {
      const previous = user[name];
      user[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
    packet.userProperties = user;
  }
  return packet;
}

/** A row of a topic table (the retained message) or of the history table. */
export interface MessageRow {
  topic: string;
  qos: QoS;
  retain: boolean;
  clientId: string;
  timestamp: Date;
  format: PayloadFormat;
  /** Readable payload: parsed JSON, text, or base64 of binary. */
  payload: unknown;
  contentType: string;
  /** Exact bytes; REST GET of a single row answers with these and `contentType`. */
  data: Buffer;
  properties?: ForwardedProperties;
}

export function messageRow(message: BusMessage): MessageRow {
  const view = viewPayload(message.payload, message.properties?.contentType);
  const row: MessageRow = {
    topic: message.topic,
    qos: message.qos,
    retain: message.retain,
    clientId: message.clientId,
    timestamp: new Date(message.timestamp),
    format: view.format,
    payload: view.payload,
    contentType: view.contentType,
    data: message.payload,
  };
  if (message.properties) row.properties = message.properties;
  return row;
}

/** Rebuilds the bus message from a stored row (retained delivery to new subscribers). */
export function messageFromRow(row: MessageRow): BusMessage {
  const message: BusMessage = {
    topic: row.topic,
    payload: asBuffer(row.data),
    qos: row.qos,
    retain: true,
    clientId: row.clientId,
    timestamp: row.timestamp instanceof Date ? row.timestamp.getTime() : Number(row.timestamp),
  };
  const properties = readProperties(row.properties);
  if (properties) message.properties = properties;
  return message;
}

/** Fields REST listings show by default (everything but the raw bytes). */
export const READABLE_FIELDS = ['id', 'topic', 'payload', 'format', 'contentType', 'qos', 'retain', 'clientId', 'timestamp'] as const;
