// The publish API of this worker thread's bridge, for code inside HarperDB (publishClient.ts is
// what other components import) and for scripts over REST (restPublish.ts). Messages take the
// broker path, and are committed to the message log whatever their QoS, so a resolved promise means
// durable and routed.
import { Access } from '../authorize.js';
import { forwardedProperties, type ForwardedProperties, type QoS } from '../messages.js';
import { publishProblem, PublishRefused, type Inbound, type Publisher } from '../publish.js';
import { bridgeSlot, type BatchItem, type BridgePublisher, type MessageOptions, type Payload } from './publishClient.js';

/** Code inside HarperDB is trusted like the broker itself. */
const IN_PROCESS = new Access(undefined, '');

export class PublishApi implements BridgePublisher {
  constructor(private readonly publisher: Publisher) {}

  /** Makes this API what `publishClient.ts` hands out on this thread. */
  install(): void {
    bridgeSlot().provide(this);
  }

  publish(topic: string, payload: Payload, options: MessageOptions = {}, access: Access = IN_PROCESS, clientId = ''): Promise<void> {
    const inbound = toInbound(topic, payload, options, clientId);
    return this.publisher.publish(inbound, access, undefined, { durable: true });
  }

  async publishBatch(topicPrefix: string, payloads: ReadonlyArray<Payload | BatchItem>, options: MessageOptions = {}): Promise<void> {
    if (!Array.isArray(payloads)) throw new TypeError('publishBatch: payloads must be a list');
    const inbound = payloads.map((item) => {
      const single: BatchItem = isBatchItem(item) ? item : { payload: item };
      const topic = single.topic ? `${topicPrefix}/${single.topic}` : topicPrefix;
      return toInbound(topic, single.payload, { ...options, ...single, properties: single.properties ?? options.properties }, '');
    });
    // All or nothing for bad topics: none is published if one is refused.
    for (const message of inbound) {
      const refused = publishProblem(message.topic);
      if (refused) throw refused;
    }
    // Published in one event-loop turn: the message log commits them together.
    await Promise.all(inbound.map((message) => this.publisher.publish(message, IN_PROCESS, undefined, { durable: true })));
  }
}

function isBatchItem(item: unknown): item is BatchItem {
  return !!item && typeof item === 'object' && !Buffer.isBuffer(item) && !(item instanceof Uint8Array) && 'payload' in item;
}

export function toInbound(topic: string, payload: Payload, options: MessageOptions, clientId: string): Inbound {
  if (typeof topic !== 'string') throw new PublishRefused('invalid-topic', 'topic must be a string');
  const qos = options.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new TypeError(`qos must be 0, 1 or 2, got ${JSON.stringify(qos)}`);
  const inbound: Inbound = { topic, payload: payloadBytes(payload), qos: qos as QoS, retain: options.retain === true, clientId };
  const properties = messageProperties(options.properties);
  if (properties) inbound.properties = properties;
  return inbound;
}

/** Bytes as given, text as UTF-8, anything else as JSON. */
export function payloadBytes(payload: Payload): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'string') return Buffer.from(payload);
  return Buffer.from(JSON.stringify(payload) ?? 'null');
}

function messageProperties(given: MessageOptions['properties']): ForwardedProperties | undefined {
  if (!given) return undefined;
  const { userProperties, correlationData, ...rest } = given;
  const packet: Record<string, unknown> = { ...rest };
  if (correlationData !== undefined) packet.correlationData = Buffer.isBuffer(correlationData) ? correlationData : Buffer.from(String(correlationData));
  if (Array.isArray(userProperties)) {
    const grouped: Record<string, string[]> = Object.create(null);
    for (const [name, value] of userProperties) (grouped[String(name)] ??= []).push(String(value));
    packet.userProperties = grouped;
  } else if (userProperties) packet.userProperties = userProperties;
  return forwardedProperties(packet);
}
