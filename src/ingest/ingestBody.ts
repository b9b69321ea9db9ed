// The body of an HTTP ingest request (seed 004): one message `{ topic, payload, qos, retain }` or a
// list of them (a JSON array, or `{ "messages": [...] }`). `payload` is sent as it is when it is a
// string (UTF-8), as JSON text when it is any other JSON value, and as bytes from `payloadBase64`.
// Pure code, no HarperDB.
import type { QoS } from '../messages.js';

export interface IngestMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
}

export class IngestError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

const FIELDS = new Set(['topic', 'payload', 'payloadBase64', 'qos', 'retain']);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function readMessage(value: unknown, where: string): IngestMessage {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new IngestError(`${where}: a message must be an object { topic, payload, qos, retain }`);
  const message = value as Record<string, unknown>;
  const unknown = Object.keys(message).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw new IngestError(`${where}: unknown field ${unknown.map((key) => JSON.stringify(key)).join(', ')}; accepted: ${[...FIELDS].join(', ')}`);
  if (typeof message.topic !== 'string' || message.topic === '') throw new IngestError(`${where}: topic must be a non-empty string`);
  const qos = message.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new IngestError(`${where}: qos must be 0, 1 or 2`);
  const retain = message.retain ?? false;
  if (typeof retain !== 'boolean') throw new IngestError(`${where}: retain must be true or false`);
  return { topic: message.topic, payload: readPayload(message, where), qos, retain };
}

function readPayload(message: Record<string, unknown>, where: string): Buffer {
  if (message.payloadBase64 !== undefined) {
    if (message.payload !== undefined) throw new IngestError(`${where}: give payload or payloadBase64, not both`);
    const text = message.payloadBase64;
    if (typeof text !== 'string' || !BASE64.test(text)) throw new IngestError(`${where}: payloadBase64 must be base64 text`);
    return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  }
  const payload = message.payload;
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

export function readIngestBody(body: unknown, maxBatch: number): IngestMessage[] {
  const list = Array.isArray(body) ? body : body && typeof body === 'object' && 'messages' in body ? (body as { messages: unknown }).messages : [body];
  if (!Array.isArray(list)) throw new IngestError('messages must be a list');
  if (list.length === 0) throw new IngestError('no messages in the request');
  if (list.length > maxBatch) throw new IngestError(`${list.length} messages in one request; at most ${maxBatch} (ingestMaxBatch)`, 413);
  return list.map((value, i) => readMessage(value, list.length === 1 && !Array.isArray(body) ? 'message' : `message ${i}`));
}
