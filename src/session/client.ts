// One connected MQTT client: its subscriptions, what it publishes, and what it receives.
// HarperDB parses packets and calls into this class through the hooks in harperHooks.ts.
import { randomUUID } from 'node:crypto';
import { generate } from 'mqtt-packet';
import { Access, type HarperUser } from '../authorize.js';
import type { BridgeConfig } from '../config.js';
import { log } from '../harper/log.js';
import { bootId } from '../harper/thread.js';
import { forwardedProperties, type BusMessage, type QoS } from '../messages.js';
import { PublishRefused, type Inbound, type Publisher, type RefusalReason } from '../publish.js';
import type { Overload } from '../stats/overload.js';
import type { CreationBudget, CreationBudgets } from '../tables/creationBudget.js';
import type { RetainedStore } from '../retained.js';
import { messageKey, type Router, type Subscriber, type Subscription } from '../router.js';
import type { Bus } from '../bus.js';
import type { Counters } from '../stats/counters.js';
import type { TopicRegistry } from '../tables/registry.js';
import { topicMatches } from '../topics/match.js';
import { isSysTopic, topicFilterProblem } from '../topics/validate.js';
import type { ConnectInfo } from './connect.js';
import { Outbox, type Delivery, type Transport } from './outbox.js';
import type { SessionRecord, SessionStore, StoredPending } from './store.js';
import type { WillStore } from './wills.js';

export interface SessionServices {
  config: BridgeConfig;
  router: Router;
  registry: TopicRegistry;
  publisher: Publisher;
  retained: RetainedStore;
  bus: Bus;
  sessions: SessionStore;
  wills: WillStore;
  counters: Counters;
  budgets: CreationBudgets;
  overload: Overload;
}

export interface SubscribeRequest {
  topic: string;
  qos: number;
  nl?: boolean;
  rap?: boolean;
  rh?: number;
}

export interface PublishPacket {
  topic: string;
  payload?: Buffer;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  properties?: Record<string, unknown>;
}

/** Where a replay of the bus log starts, and which messages it must send again. */
interface ReplayPlan {
  from: number;
  inclusive: boolean;
  /** Messages after this position are new to the client. */
  seenUpTo: number;
  resend?: Map<number, StoredPending>;
}

const clampQos = (qos: number): QoS => (qos >= 2 ? 2 : qos >= 1 ? 1 : 0);
const RECENT_QOS2_IDS = 64;
/**
 * A client's publishes being written at once. A flood from one client then waits in its own
 * queue and socket, not in the write queue every other client's messages pass through.
 */
const WRITING_AT_ONCE = 64;
/** MQTT 5 PUBACK/PUBREC reason codes for refused messages [MQTT-3.4.2.1]. */
const REFUSAL_CODES: Record<RefusalReason, number> = {
  'invalid-topic': 0x90,
  'sys-topic': 0x87,
  'not-authorized': 0x87,
  'quota-exceeded': 0x97,
};
const UNSPECIFIED_ERROR = 0x80;
const TAKEOVER_WAIT_MS = 2000;
const RETAINED_ECHO_MS = 5000;

export class ClientSession implements Subscriber {
  readonly connectionId = randomUUID();
  readonly clientId: string;
  readonly sessionPresent: boolean;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly outbox: Outbox;
  private readonly access: Access;
  private readonly recentQos2: number[] = [];
  private mode: 'live' | 'replaying' = 'live';
  /** Live messages at or below this bus position were already handled (read from the log). */
  private floor = Date.now();
  private lastOffered = 0;
  private replayRead = 0;
  private closed = false;
  private evictedByCleanStart = false;
  /** New topic tables this client id may still create (kept across its connections). */
  private readonly budget: { budget: CreationBudget; warned: boolean };
  /** Publishes not started yet, in the order they came; how many are being written; whether one is creating its table. */
  private readonly pipeline: Array<{ inbound: Inbound; resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing = 0;
  private creatingTable = false;
  private readingPaused = false;

  constructor(
    private readonly info: ConnectInfo,
    user: HarperUser | undefined,
    private readonly transport: Transport,
    private readonly services: SessionServices,
  ) {
    this.clientId = info.clientId;
    this.access = new Access(user, services.config.database);
    this.budget = services.budgets.for(info.clientId);
    const { counters } = services;
    this.outbox = new Outbox(transport, {
      protocolVersion: info.protocolVersion,
      maxInflight: Math.min(services.config.maxInflight, info.receiveMaximum ?? Infinity),
      maxQueued: services.config.maxQueued,
      maximumPacketSize: info.maximumPacketSize,
      onHeld: (messages, bytes) => {
        counters.add('storedMessages', messages);
        counters.add('storedBytes', bytes);
      },
      onDropped: (delivery, reason, error) => {
        counters.add('publishDropped');
        if (reason === 'unencodable') log.error('could not encode', delivery.message.topic, 'for', info.clientId, error);
      },
    });
    this.sessionPresent = !info.cleanStart && services.sessions.existsSync(info.clientId);
    if (info.cleanStart) void services.sessions.delete(info.clientId).catch(() => undefined);
    services.router.attach(this);
    counters.add('clientsConnected');
    counters.add('connectsTotal');
    counters.notePeak();
    void services.bus
      .control({ kind: 'takeover', clientId: this.clientId, connectionId: this.connectionId, cleanStart: info.cleanStart })
      .catch((error) => log.warn('could not announce connection of', this.clientId, error));
    if (info.will) {
      void services.wills
        .remember(this.clientId, this.connectionId, info.will, user?.username ?? null)
        .catch((error) => log.error('could not store the will of', this.clientId, error));
    }
  }

  get protocolVersion(): number {
    return this.info.protocolVersion;
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  /** The granted QoS, or undefined to refuse (SUBACK 0x80 / 0x8F). */
  async subscribe(request: SubscribeRequest): Promise<{ qos: QoS } | undefined> {
    const filter = request.topic;
    // Shared subscriptions are not supported; the filter is refused rather than misread.
    if (topicFilterProblem(filter) || filter.startsWith('$share/')) return undefined;
    // Nothing is created for a subscription: tables appear when retained messages are stored.
    if (this.closed) return undefined;
    const qos = clampQos(request.qos);
    const existing = this.subscriptions.get(filter);
    const subscription: Subscription = existing ?? {
      subscriber: this,
      filter,
      qos,
      noLocal: false,
      retainAsPublished: false,
      held: null,
      sentRetained: null,
    };
    subscription.qos = qos;
    subscription.noLocal = request.nl === true;
    subscription.retainAsPublished = request.rap === true;
    if (!existing) {
      this.subscriptions.set(filter, subscription);
      this.services.router.add(subscription);
      this.services.counters.add('subscriptions');
    }
    // MQTT 5 Retain Handling: 0 always, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11].
    const sendRetained = request.rh === 2 ? false : request.rh === 1 ? !existing : true;
    if (sendRetained) {
      subscription.held ??= [];
      // After SUBACK, which HarperDB sends once this method returns.
      setImmediate(() => void this.sendRetained(subscription));
    }
    if (this.info.persistent) await this.services.sessions.save(this.snapshot());
    return { qos };
  }

  unsubscribe(filter: string): boolean {
    const subscription = this.subscriptions.get(filter);
    if (!subscription) return false;
    this.subscriptions.delete(filter);
    this.services.router.remove(subscription);
    this.services.counters.add('subscriptions', -1);
    if (this.info.persistent) void this.services.sessions.save(this.snapshot()).catch(() => undefined);
    return true;
  }

  private async sendRetained(subscription: Subscription): Promise<void> {
    const sent = new Set<string>();
    subscription.sentRetained = sent;
    try {
      for await (const message of this.services.retained.matching(subscription.filter)) {
        if (this.closed || this.subscriptions.get(subscription.filter) !== subscription) break;
        if (!this.mayRead(message.topic)) continue;
        await this.room();
        sent.add(messageKey(message));
        this.outbox.push({ message, localTime: 0, qos: Math.min(message.qos, subscription.qos) as QoS, retain: true });
      }
    } catch (error) {
      log.error('could not send retained messages for', subscription.filter, 'to', this.clientId, error);
    } finally {
      const held = subscription.held ?? [];
      subscription.held = null;
      for (const [message, localTime] of held) this.offer(message, localTime, [subscription]);
      // A live copy can still be on its way from another thread for a moment.
      setTimeout(() => {
        if (subscription.sentRetained === sent) subscription.sentRetained = null;
      }, RETAINED_ECHO_MS).unref();
    }
  }

  // ---- PUBLISH from the client ----

  /** Resolves once the message is accepted; a refusal answers (or closes) itself and never resolves. */
  async publish(packet: PublishPacket): Promise<boolean> {
    const v5 = this.info.protocolVersion === 5;
    // Topic aliases are not offered (HarperDB's CONNACK announces no Topic Alias Maximum), so an
    // aliased PUBLISH has an empty topic and is refused like any invalid topic.
    const topic = packet.topic;
    const qos = clampQos(packet.qos ?? 0);
    if (qos === 2 && packet.messageId !== undefined) {
      // A QoS 2 PUBLISH sent again before our PUBREC arrived must not be delivered twice [MQTT-4.3.3].
      if (packet.dup && this.recentQos2.includes(packet.messageId)) return true;
      this.recentQos2.push(packet.messageId);
      if (this.recentQos2.length > RECENT_QOS2_IDS) this.recentQos2.shift();
    }
    const inbound: Inbound = {
      topic,
      payload: packet.payload ?? Buffer.alloc(0),
      qos,
      retain: packet.retain === true,
      clientId: this.clientId,
      properties: v5 ? forwardedProperties(packet.properties) : undefined,
    };
    const accepted = this.inOrder(inbound);
    if (qos === 0) {
      accepted.catch((error) => void this.refused(error, topic, qos, packet.messageId));
      return true;
    }
    try {
      await accepted;
      return true;
    } catch (error) {
      return this.refused(error, topic, qos, packet.messageId);
    }
  }

  /**
   * Publishes in the order the client sent them [MQTT-4.6.0-5], with at most WRITING_AT_ONCE of a
   * client's publishes being written at a time (one while the broker is overloaded): HarperDB
   * parses a whole socket chunk (thousands of small packets) before a paused socket stops, so the
   * bound is kept here. A publish that must first create its table holds back the ones behind it.
   * While any wait, the socket is not read.
   */
  private inOrder(inbound: Inbound): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pipeline.push({ inbound, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    const { publisher, overload } = this.services;
    // While deliveries fall behind somewhere, each client gets one message written at a time.
    const limit = overload.overloaded ? 1 : WRITING_AT_ONCE;
    while (this.pipeline.length > 0 && this.writing < limit && !this.creatingTable) {
      const { inbound, resolve, reject } = this.pipeline.shift()!;
      const createsTable = publisher.mustWait(inbound);
      if (createsTable) this.creatingTable = true;
      this.writing++;
      // The writes start in this call (or, for a new table, once it exists, with nothing started behind it).
      publisher.publish(inbound, this.access, this.budget.budget).then(resolve, reject).finally(() => {
        this.writing--;
        if (createsTable) this.creatingTable = false;
        this.pump();
      });
    }
    const backlog = this.pipeline.length > 0;
    if (backlog && !this.readingPaused) {
      this.readingPaused = true;
      this.transport.pause();
    } else if (!backlog && this.readingPaused) {
      this.readingPaused = false;
      this.transport.resume();
    }
  }

  /**
   * A PUBLISH that was not accepted. MQTT 5 QoS 1/2 gets PUBACK/PUBREC with the reason code,
   * written here (HarperDB could only say 0x90). MQTT 3.1.1 has no way to refuse a PUBLISH, so
   * the connection is closed [MQTT-4.8.0-1], as Mosquitto does for ACL denials. Either way the
   * returned promise never settles, so HarperDB sends no acknowledgement of its own.
   */
  private refused(error: unknown, topic: string, qos: QoS, messageId: number | undefined): Promise<boolean> {
    this.services.counters.add('publishDropped');
    const refusal = error instanceof PublishRefused ? error : null;
    const reason = refusal ? refusal.message : `not accepted (${(error as Error)?.message ?? error})`;
    const shown = JSON.stringify(topic.length > 200 ? topic.slice(0, 200) + '...' : topic);
    const line = `refused PUBLISH from client ${JSON.stringify(this.clientId)} to ${shown}: ${reason}`;
    const settlesNever = new Promise<boolean>(() => undefined);
    if (this.info.protocolVersion !== 5) {
      log.warn(`${line}; closing the connection (MQTT 3.1.1 cannot refuse a PUBLISH)`);
      this.transport.close();
      return settlesNever;
    }
    if (refusal?.reason === 'quota-exceeded') {
      if (!this.budget.warned) log.warn(`${line} (logged once per client)`);
      this.budget.warned = true;
    } else if (refusal) log.debug(line);
    else log.warn(line);
    if (qos > 0 && messageId !== undefined) {
      const reasonCode = refusal ? REFUSAL_CODES[refusal.reason] : UNSPECIFIED_ERROR;
      this.transport.write(generate({ cmd: qos === 2 ? 'pubrec' : 'puback', messageId, reasonCode }, { protocolVersion: 5 }));
    }
    return settlesNever;
  }

  // ---- delivery to the client ----

  /** PUBACK or PUBCOMP; false when the id is not one of ours (HarperDB sent that message). */
  acknowledge(messageId: number): boolean {
    if (!this.outbox.acknowledge(messageId)) return false;
    if (this.info.persistent) this.dirty();
    return true;
  }

  /** HarperDB serves some of this client's topics natively and numbers its packets itself. */
  shareIdsWithHarper(): void {
    this.outbox.shareIdsWithHarper();
  }

  offer(message: BusMessage, localTime: number, matching: Subscription[]): void {
    if (this.closed || localTime <= this.floor) return;
    this.lastOffered = localTime;
    if (this.info.persistent) this.dirty();
    if (this.mode === 'replaying') return; // the replay will read it from the log
    const delivery = this.evaluate(message, localTime, matching, true);
    if (!delivery) return;
    if (!this.outbox.isFull()) {
      this.outbox.push(delivery);
    } else if (delivery.qos === 0) {
      this.services.counters.add('publishDropped');
    } else {
      // Too far behind: stop queueing live messages and read QoS 1/2 ones back from the bus log.
      this.replay({ from: localTime, inclusive: true, seenUpTo: localTime - 1 });
    }
  }

  /** What to send for a message matched by `matching`, or null when nothing is due. */
  private evaluate(message: BusMessage, localTime: number, matching: Subscription[], live: boolean): Delivery | null {
    let qos = -1;
    let retain = false;
    let held: Subscription | undefined;
    let key: string | undefined;
    for (const subscription of matching) {
      if (subscription.noLocal && message.clientId === this.clientId) continue; // MQTT 5 No Local
      if (subscription.sentRetained?.has((key ??= messageKey(message)))) continue; // already sent as retained
      if (live && subscription.held) {
        held ??= subscription;
        continue;
      }
      qos = Math.max(qos, Math.min(message.qos, subscription.qos));
      // Live messages go out with retain 0 unless Retain As Published [MQTT-3.3.1-9].
      retain ||= subscription.retainAsPublished && message.retain;
    }
    if (qos < 0) {
      held?.held?.push([message, localTime]);
      return null;
    }
    if (!this.mayRead(message.topic)) return null;
    return { message, localTime, qos: qos as QoS, retain };
  }

  private mayRead(topic: string): boolean {
    if (this.access.unrestricted || isSysTopic(topic)) return true;
    return this.access.allows(this.services.retained.tableName(topic), 'read');
  }

  private room(): Promise<void> {
    return this.outbox.isFull() ? this.outbox.waitForSpace() : Promise.resolve();
  }

  // ---- replay from the bus log ----

  private replay(plan: ReplayPlan): void {
    if (this.mode === 'replaying' || this.closed) return;
    this.startReplay(plan);
  }

  private startReplay(plan: ReplayPlan): void {
    this.mode = 'replaying';
    this.replayRead = plan.from;
    this.replayLoop(plan).catch((error) => {
      log.error('replay for', this.clientId, 'failed', error);
      this.transport.close();
    });
  }

  private async replayLoop(plan: ReplayPlan): Promise<void> {
    let inclusive = plan.inclusive;
    do {
      const start = this.replayRead;
      for await (const { message, localTime } of this.services.bus.since(start)) {
        if (this.closed) return;
        if (inclusive ? localTime < start : localTime <= start) continue;
        inclusive = false;
        this.replayRead = localTime;
        const earlier = plan.resend?.get(localTime);
        let delivery: Delivery | null;
        if (earlier) {
          delivery = { message, localTime, qos: earlier.qos, retain: false, dup: earlier.messageId !== undefined };
          if (earlier.messageId !== undefined) delivery.messageId = earlier.messageId;
        } else {
          if (localTime <= plan.seenUpTo) continue;
          const matching = [...this.subscriptions.values()].filter((s) => topicMatches(s.filter, message.topic));
          delivery = matching.length ? this.evaluate(message, localTime, matching, false) : null;
          // QoS 0 messages are not kept for clients that were away or fell behind.
          if (!delivery || delivery.qos === 0) continue;
        }
        await this.room();
        if (this.closed) return;
        this.outbox.push(delivery);
      }
    } while (!this.closed && this.lastOffered > this.replayRead);
    this.floor = Math.max(this.floor, this.replayRead);
    this.mode = 'live';
  }

  // ---- persistent sessions ----

  /** HarperDB calls this after CONNACK when `sessionPresent` was true. */
  async resume(): Promise<void> {
    const { sessions, router, counters } = this.services;
    let record = await sessions.get(this.clientId);
    // Taken over from a live connection: give it a moment to save where it was.
    for (let waited = 0; record?.online && record.online !== this.connectionId && waited < TAKEOVER_WAIT_MS; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      record = await sessions.get(this.clientId);
    }
    if (!record || this.closed) return;
    this.mode = 'replaying'; // before the subscriptions go live, so nothing overtakes the replay
    for (const stored of record.subscriptions) {
      if (this.subscriptions.has(stored.filter)) continue;
      // Fields one by one: nested objects of HarperDB records have no own enumerable keys to spread.
      const subscription: Subscription = {
        subscriber: this,
        filter: stored.filter,
        qos: stored.qos,
        noLocal: stored.noLocal,
        retainAsPublished: stored.retainAsPublished,
        held: null,
        sentRetained: null,
      };
      this.subscriptions.set(stored.filter, subscription);
      router.add(subscription);
      counters.add('subscriptions');
    }
    const resend = new Map(record.pending.map((p) => [p.localTime, p]));
    this.outbox.reserve(record.pending.flatMap((p) => (p.messageId === undefined ? [] : [p.messageId])));
    const from = Math.min(record.seenUpTo, ...resend.keys());
    this.startReplay({ from, inclusive: resend.size > 0, seenUpTo: record.seenUpTo, resend });
    await sessions.save(this.snapshot());
  }

  private seenUpTo(): number {
    return this.mode === 'live' ? Math.max(this.floor, this.services.router.lastLocalTime) : this.replayRead;
  }

  private snapshot(): SessionRecord {
    const expiry = this.info.sessionExpiry;
    return {
      id: this.clientId,
      subscriptions: [...this.subscriptions.values()].map(({ filter, qos, noLocal, retainAsPublished }) => ({
        filter,
        qos,
        noLocal,
        retainAsPublished,
      })),
      seenUpTo: this.seenUpTo(),
      pending: this.outbox
        .unacknowledged()
        .filter((d) => d.localTime > 0)
        .map((d) => (d.messageId === undefined ? { localTime: d.localTime, qos: d.qos } : { localTime: d.localTime, qos: d.qos, messageId: d.messageId })),
      expiresAt: this.closed && expiry !== null ? Date.now() + expiry * 1000 : null,
      online: this.closed ? null : this.connectionId,
      boot: bootId,
      protocolVersion: this.info.protocolVersion,
      updatedAt: new Date(),
    };
  }

  private dirty(): void {
    this.services.sessions.markDirty(this.clientId, () => this.snapshot());
  }

  // ---- end of the connection ----

  /** Another connection took this client id [MQTT-3.1.4-2]. */
  evict(cleanStart = false): void {
    if (this.closed) return;
    this.evictedByCleanStart = cleanStart;
    if (this.info.protocolVersion === 5) {
      this.transport.write(generate({ cmd: 'disconnect', reasonCode: 0x8e }, { protocolVersion: 5 })); // Session taken over
    }
    this.transport.close();
  }

  /** `graceful`: the client sent DISCONNECT, so its will is discarded. */
  close(graceful: boolean): void {
    if (this.closed) return;
    this.closed = true;
    const { router, sessions, wills, counters, publisher } = this.services;
    for (const subscription of this.subscriptions.values()) router.remove(subscription);
    counters.add('subscriptions', -this.subscriptions.size);
    counters.add('clientsConnected', -1);
    router.detach(this);
    this.outbox.close();
    if (this.info.persistent && !this.evictedByCleanStart) {
      void sessions.save(this.snapshot()).catch((error) => log.error('could not save session', this.clientId, error));
    } else if (this.sessionPresent) {
      void sessions.delete(this.clientId).catch(() => undefined);
    }
    const will = this.info.will;
    if (!will) return;
    const forget = () => wills.forget(this.clientId, this.connectionId);
    if (graceful) {
      void forget().catch(() => undefined);
      return;
    }
    publisher
      .publish({ ...will, clientId: this.clientId }, this.access)
      .catch((error) => log.warn('could not publish the will of', this.clientId, error))
      .finally(() => void forget().catch(() => undefined));
  }
}
