// Outgoing PUBLISH flow for one client: a queue, a window of unacknowledged QoS 1/2 messages with
// their packet identifiers, and writes that pause while the socket buffer is full.
import { generate } from 'mqtt-packet';
import { propertiesForDelivery, type BusMessage, type QoS } from '../messages.js';
import { OutboundAliases } from '../wire/topicAliases.js';

export interface Transport {
  /** Writes one packet; false when the socket buffer is full and `onDrain` should be awaited. */
  write(packet: Buffer): boolean;
  onDrain(callback: () => void): void;
  close(): void;
  readonly closed: boolean;
  /**
   * Stops reading the client's packets until `resume` by the same holder (back-pressure on a
   * publisher: 'session'); reading goes on once no holder holds it.
   */
  pause(holder?: string): void;
  resume(holder?: string): void;
}

export interface Delivery {
  message: BusMessage;
  /** Position in the bus log; 0 for retained messages read from a topic table. */
  position: number;
  qos: QoS;
  retain: boolean;
  /** Set when a QoS 1/2 message is sent again after a reconnect [MQTT-4.4.0-1]. */
  dup?: boolean;
  messageId?: number;
  /** MQTT 5 Subscription Identifiers of the subscriptions it matched [MQTT-3.3.4-3]. */
  subscriptionIdentifiers?: number[];
  /** QoS 2: the client's PUBREC came, PUBREL went; waiting for PUBCOMP (sent again as PUBREL). */
  released?: boolean;
  /** Chosen for this client by a shared subscription's group: handed back to it if the session ends first. */
  shared?: { group: string; filter: string };
}

export interface OutboxOptions {
  protocolVersion: number;
  maxInflight: number;
  maxQueued: number;
  /** Payload bytes queued (not in flight): large messages fill the queue sooner. */
  maxQueuedBytes?: number;
  /** MQTT 5 Maximum Packet Size the client announced [MQTT-3.1.2-24]. */
  maximumPacketSize?: number;
  /** Changes in what the outbox holds (queued or awaiting acknowledgement), for $SYS store figures. */
  onHeld?(messages: number, payloadBytes: number): void;
  onDropped?(delivery: Delivery, reason: 'expired' | 'too-large' | 'queue-full' | 'unencodable', error?: unknown): void;
  /** A packet written: its bytes, and for a PUBLISH its payload bytes (-1 otherwise). */
  onWritten?(bytes: number, payloadBytes: number): void;
  /** MQTT 5 Topic Alias Maximum the client offered: aliases this outbox may use. */
  topicAliasMaximum?: number;
}

const MAX_PACKET_ID = 65535;

export class Outbox {
  private queue: Delivery[] = [];
  private head = 0;
  private readonly inflight = new Map<number, Delivery>();
  private readonly reserved = new Set<number>();
  private nextId = 1;
  private awaitingDrain = false;
  private spaceWaiters: Array<() => void> = [];
  private heldMessages = 0;
  private heldBytes = 0;
  /** Payload bytes of the queued messages (not of those in flight). */
  private queuedBytes = 0;
  private readonly aliases: OutboundAliases | null;

  constructor(
    private readonly transport: Transport,
    private readonly options: OutboxOptions,
  ) {
    this.aliases = options.protocolVersion === 5 && (options.topicAliasMaximum ?? 0) > 0 ? new OutboundAliases(options.topicAliasMaximum!) : null;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** At either limit: live QoS 0 messages are dropped, QoS 1/2 ones read back from the log later. */
  isFull(): boolean {
    return !this.queuedBelow(1);
  }

  /** Both the queued messages and their payload bytes are under `share` of their limits. */
  private queuedBelow(share: number): boolean {
    return this.queued < this.options.maxQueued * share && this.queuedBytes < (this.options.maxQueuedBytes ?? Infinity) * share;
  }

  push(delivery: Delivery): void {
    this.hold(delivery, 1);
    this.queuedBytes += delivery.message.payload.length;
    this.queue.push(delivery);
    this.pump();
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) arrived for `messageId`. */
  acknowledge(messageId: number): Delivery | undefined {
    const delivery = this.inflight.get(messageId);
    if (!delivery) return undefined;
    this.inflight.delete(messageId);
    this.hold(delivery, -1);
    this.pump();
    return delivery;
  }

  /** The client's PUBREC for a QoS 2 message: it stays in flight until PUBCOMP. False when unknown. */
  released(messageId: number): boolean {
    const delivery = this.inflight.get(messageId);
    if (!delivery || delivery.qos !== 2) return false;
    delivery.released = true;
    return true;
  }

  /** QoS 1/2 messages not yet acknowledged: sent ones first, then queued ones. */
  unacknowledged(): Delivery[] {
    const pending = [...this.inflight.values()];
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i]!.qos > 0) pending.push(this.queue[i]!);
    return pending;
  }

  /** Keeps identifiers of messages that will be sent again with their old id from being reused. */
  reserve(messageIds: Iterable<number>): void {
    for (const id of messageIds) this.reserved.add(id);
  }

  /** Resolves when the queue has room again. */
  waitForSpace(): Promise<void> {
    if (!this.isFull() || this.transport.closed) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** The connection is gone: nothing is sent any more and waiters stop waiting. */
  close(): void {
    this.options.onHeld?.(-this.heldMessages, -this.heldBytes);
    this.heldMessages = 0;
    this.heldBytes = 0;
    this.releaseWaiters();
  }

  private hold(delivery: Delivery, sign: 1 | -1): void {
    const bytes = delivery.message.payload.length;
    this.heldMessages += sign;
    this.heldBytes += sign * bytes;
    this.options.onHeld?.(sign, sign * bytes);
  }

  private releaseWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    const now = Date.now();
    while (this.head < this.queue.length && !this.awaitingDrain && !this.transport.closed) {
      const delivery = this.queue[this.head]!;
      if (delivery.qos > 0 && this.inflight.size >= this.options.maxInflight) break;
      this.queue[this.head++] = undefined as unknown as Delivery; // let the message be collected
      this.queuedBytes -= delivery.message.payload.length;
      if (!this.send(delivery, now)) {
        this.awaitingDrain = true;
        this.transport.onDrain(() => {
          this.awaitingDrain = false;
          this.pump();
        });
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.spaceWaiters.length > 0 && this.queuedBelow(0.5)) this.releaseWaiters();
  }

  /** Writes one PUBLISH (or, for a released QoS 2 message sent again, its PUBREL); false when the socket asks us to wait. */
  private send(delivery: Delivery, now: number): boolean {
    const { message, qos } = delivery;
    const protocolVersion = this.options.protocolVersion as 3 | 4 | 5;
    if (delivery.released && delivery.messageId !== undefined) {
      this.inflight.set(delivery.messageId, delivery);
      return this.write(generate({ cmd: 'pubrel', messageId: delivery.messageId } as Parameters<typeof generate>[0], { protocolVersion }), -1);
    }
    const properties = propertiesForDelivery(message, now);
    if (properties === null) {
      this.hold(delivery, -1);
      this.options.onDropped?.(delivery, 'expired');
      return true;
    }
    if (qos > 0) {
      delivery.messageId ??= this.allocateId();
      this.reserved.delete(delivery.messageId);
    }
    let topic = message.topic;
    let packetProperties: Record<string, unknown> | undefined;
    if (protocolVersion === 5) {
      packetProperties = properties ?? {};
      const identifiers = delivery.subscriptionIdentifiers;
      if (identifiers) packetProperties.subscriptionIdentifier = identifiers.length === 1 ? identifiers[0] : identifiers;
      const alias = this.aliases?.use(topic);
      if (alias) {
        packetProperties.topicAlias = alias.alias;
        if (!alias.withTopic) topic = '';
      }
    }
    let packet: Buffer;
    try {
      packet = generate(
        {
          cmd: 'publish',
          topic,
          payload: message.payload,
          qos,
          retain: delivery.retain,
          dup: delivery.dup ?? false,
          messageId: qos > 0 ? delivery.messageId : undefined,
          properties: packetProperties,
        } as Parameters<typeof generate>[0],
        { protocolVersion },
      );
    } catch (error) {
      // One message that cannot be encoded must not stall the queue behind it.
      this.hold(delivery, -1);
      this.options.onDropped?.(delivery, 'unencodable', error);
      return true;
    }
    const limit = this.options.maximumPacketSize;
    if (limit !== undefined && packet.length > limit) {
      this.hold(delivery, -1);
      this.options.onDropped?.(delivery, 'too-large'); // [MQTT-3.1.2-25]
      return true;
    }
    if (qos > 0) this.inflight.set(delivery.messageId!, delivery);
    else this.hold(delivery, -1);
    return this.write(packet, message.payload.length);
  }

  private write(packet: Buffer, payloadBytes: number): boolean {
    this.options.onWritten?.(packet.length, payloadBytes);
    return this.transport.write(packet);
  }

  private allocateId(): number {
    for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
      const id = this.nextId;
      this.nextId = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!this.inflight.has(id) && !this.reserved.has(id)) return id;
    }
    throw new Error('no free packet identifier');
  }
}
