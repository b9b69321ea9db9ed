// What another component or custom resource in the same HarperDB imports to publish MQTT messages:
//   import { publish, publishBatch } from 'harper-mqtt-bridge/dist/sources/publishClient.js';
// It holds no state of its own (each app may have its own copy of this file): it reaches the
// running bridge of this worker thread through one global, and waits for it while the bridge is
// still starting. No HarperDB imports here, so it loads anywhere.

export type Payload = Buffer | Uint8Array | string | number | boolean | null | object;

export interface MessageOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  properties?: {
    contentType?: string;
    responseTopic?: string;
    correlationData?: Buffer | string;
    messageExpiryInterval?: number;
    payloadFormatIndicator?: boolean;
    /** `{ name: value }` (a list of values repeats the name) or `[[name, value], ...]`. */
    userProperties?: Record<string, string | string[]> | Array<[string, string]>;
  };
}

export interface BatchItem extends MessageOptions {
  /** Appended to the prefix (`prefix/topic`); none: the prefix itself. */
  topic?: string;
  payload: Payload;
}

export interface BridgePublisher {
  /** Resolves once the message is committed (durable) and routed to this node's subscribers; a bad topic throws. */
  publish(topic: string, payload: Payload, options?: MessageOptions): Promise<void>;
  /** Many messages, committed together; every topic is checked before any is published. */
  publishBatch(topicPrefix: string, payloads: ReadonlyArray<Payload | BatchItem>, options?: MessageOptions): Promise<void>;
}

/** The global the running bridge sets on each worker thread. */
export const BRIDGE_GLOBAL = Symbol.for('harper-mqtt-bridge/publisher');

interface Slot {
  ready: Promise<BridgePublisher>;
  provide(api: BridgePublisher): void;
}

/** The slot shared by every copy of this file on this thread (created by whichever comes first). */
export function bridgeSlot(): Slot {
  const global = globalThis as unknown as Record<symbol, Slot | undefined>;
  let slot = global[BRIDGE_GLOBAL];
  if (!slot) {
    let provide!: (api: BridgePublisher) => void;
    const ready = new Promise<BridgePublisher>((resolve) => (provide = resolve));
    slot = { ready, provide };
    global[BRIDGE_GLOBAL] = slot;
  }
  return slot;
}

const WAIT_MS = 30_000;

/** The bridge of this thread, once it has started (rejects if it has not within 30 s). */
export function bridge(): Promise<BridgePublisher> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('harper-mqtt-bridge is not running on this HarperDB thread (is the component installed and configured?)')), WAIT_MS);
    timer.unref?.();
  });
  return Promise.race([bridgeSlot().ready, timeout]).finally(() => clearTimeout(timer));
}

export async function publish(topic: string, payload: Payload, options?: MessageOptions): Promise<void> {
  return (await bridge()).publish(topic, payload, options);
}

export async function publishBatch(topicPrefix: string, payloads: ReadonlyArray<Payload | BatchItem>, options?: MessageOptions): Promise<void> {
  return (await bridge()).publishBatch(topicPrefix, payloads, options);
}
