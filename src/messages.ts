// The message as it travels between threads, and the rows it becomes in topic and history tables.
import { viewPayload, type PayloadFormat } from './topics/payload.js';

export type QoS = 0 | 1 | 2;

/** MQTT 5 PUBLISH properties a broker forwards to subscribers [MQTT-3.3.2-*]. */
export interface ForwardedProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
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
}

const FORWARDED: ReadonlyArray<keyof ForwardedProperties> = [
  'payloadFormatIndicator',
  'messageExpiryInterval',
  'contentType',
  'responseTopic',
  'correlationData',
  'userProperties',
];

/** The forwardable subset of incoming PUBLISH properties (topic aliases and the like stay behind). */
export function forwardedProperties(properties: Record<string, unknown> | undefined): ForwardedProperties | undefined {
  if (!properties) return undefined;
  let kept: Record<string, unknown> | undefined;
  for (const key of FORWARDED) {
    if (properties[key] !== undefined) (kept ??= {})[key] = properties[key];
  }
  return kept as ForwardedProperties | undefined;
}

/**
 * Properties to send with a delivery, or null when the message has expired: the expiry interval
 * counts down while the broker holds the message [MQTT-3.3.2-6].
 */
export function propertiesForDelivery(message: BusMessage, now: number): ForwardedProperties | undefined | null {
  const properties = message.properties;
  if (properties?.messageExpiryInterval === undefined) return properties;
  const remaining = properties.messageExpiryInterval - Math.floor((now - message.timestamp) / 1000);
  if (remaining <= 0) return null;
  return { ...properties, messageExpiryInterval: remaining };
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
    payload: Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data as Uint8Array),
    qos: row.qos,
    retain: true,
    clientId: row.clientId,
    timestamp: row.timestamp instanceof Date ? row.timestamp.getTime() : Number(row.timestamp),
  };
  if (row.properties) message.properties = row.properties;
  return message;
}

/** Fields REST listings show by default (everything but the raw bytes). */
export const READABLE_FIELDS = ['id', 'topic', 'payload', 'format', 'contentType', 'qos', 'retain', 'clientId', 'timestamp'] as const;
