// One connected MQTT client's session: its subscriptions, what it publishes, and what it receives.
// Its connection (src/wire/connection.ts) hands it the client's packets.
import { randomUUID } from 'node:crypto';
import { ConnectionRules } from '../access/accessRules.js';
import { Access, type HarperUser } from '../authorize.js';
import type { Devices } from '../devices/devices.js';
import type { BridgeConfig } from '../config.js';
import { log } from '../harper/log.js';
import { bootId } from '../harper/thread.js';
import { forwardedProperties, type BusMessage, type QoS } from '../messages.js';
import { PublishRefused, type Inbound, type Publisher, type RefusalReason } from '../publish.js';
import type { Overload } from '../stats/overload.js';
import type { ClientBudget, CreationBudgets } from '../tables/creationBudget.js';
import type { RetainedStore } from '../retained.js';
import { messageKey, type Router, type Subscriber, type Subscription } from '../router.js';
import type { Bus } from '../bus/bus.js';
import type { Counters } from '../stats/counters.js';
import type { TopicRegistry } from '../tables/registry.js';
import { topicMatches } from '../topics/match.js';
import { isSysTopic, topicFilterProblem } from '../topics/validate.js';
import { publishNatively, servedNatively, subscribeNatively, type NativeSubscription } from '../native/nativeTopics.js';
import type { Describable, LiveClients } from '../console/liveClients.js';
import type { ClientSummary } from '../console/web/api.js';
import type { ConnectInfo } from '../wire/connect.js';
import type { PublishPacket, Refusal, SessionHandler, SubscribeRequest } from '../wire/connection.js';
import { Outbox, type Delivery, type Transport } from './outbox.js';
import type { SessionRecord, SessionStore, StoredPending } from './store.js';
import type { WillStore } from './wills.js';
import { willWaitSeconds, type DelayedWills } from './delayedWills.js';
import { isSharedFilter, parseSharedFilter, type SharedName } from '../shared/sharedName.js';

export interface SessionServices {
  config: BridgeConfig;
  router: Router;
  registry: TopicRegistry;
  publisher: Publisher;
  retained: RetainedStore;
  bus: Bus;
  sessions: SessionStore;
  wills: WillStore;
  delayedWills: DelayedWills;
  counters: Counters;
  budgets: CreationBudgets;
  overload: Overload;
  devices: Devices;
  /** This thread's connected clients, for the console. */
  clients: LiveClients;
}

/** What a session needs of its connection. */
export interface ClientLink {
  socket: Transport;
  /** Server-initiated end: MQTT 5 DISCONNECT with the reason code first. */
  disconnect(reasonCode: number, reason: string): void;
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

export class ClientSession implements Subscriber, SessionHandler, Describable {
  readonly connectionId = randomUUID();
  private readonly connectedAt = Date.now();
  readonly clientId: string;
  readonly sessionPresent: boolean;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly outbox: Outbox;
  private readonly access: Access;
  private readonly transport: Transport;
  /** Subscriptions served by other applications' resources (HarperDB's native MQTT behaviour). */
  private readonly native = new Map<string, NativeSubscription>();
  private mode: 'live' | 'replaying' = 'live';
  /** Live messages at or below this bus position were already handled (routed before it started, or read from the log). */
  private floor: number;
  private lastOffered = 0;
  private replayRead = 0;
  private closed = false;
  private evictedByCleanStart = false;
  private takenOver = false;
  /** Its state may have been saved while connected. */
  private readonly startedPersistent: boolean;
  /** New topic tables this client id may still create (kept across its connections). */
  private readonly budget: ClientBudget;
  /** Publishes not started yet, in the order they came; how many are being written; whether one is creating its table. */
  private readonly pipeline: Array<{ inbound: Inbound; resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing = 0;
  private creatingTable = false;
  private readingPaused = false;

  /** Ends this connection's entry among its device's live connections (devices only). */
  private readonly detachDevice: (() => void) | null;

  /** `prefixes`: a device credential's topic prefixes (null: not a device). */
  constructor(
    private readonly info: ConnectInfo,
    private readonly user: HarperUser | undefined,
    private readonly link: ClientLink,
    private readonly services: SessionServices,
    prefixes: readonly string[] | null = null,
  ) {
    this.clientId = info.clientId;
    this.startedPersistent = info.persistent;
    this.transport = link.socket;
    this.floor = services.bus.position - 1;
    this.access = new Access(user, services.config.database, { rules: new ConnectionRules(services.config.accessRules, user?.username, info.clientId), prefixes });
    this.detachDevice = prefixes && user?.username ? services.devices.attach(user.username, link) : null;
    this.budget = services.budgets.for(info.clientId);
    const { counters } = services;
    this.outbox = new Outbox(this.transport, {
      protocolVersion: info.protocolVersion,
      maxInflight: Math.min(services.config.maxInflight, info.receiveMaximum ?? Infinity),
      maxQueued: services.config.maxQueued,
      maxQueuedBytes: services.config.maxQueuedBytes,
      maximumPacketSize: info.maximumPacketSize,
      onHeld: (messages, bytes) => {
        counters.add('storedMessages', messages);
        counters.add('storedBytes', bytes);
      },
      onDropped: (delivery, reason, error) => {
        counters.add('publishDropped');
        if (reason === 'unencodable') log.error('could not encode', delivery.message.topic, 'for', info.clientId, error);
      },
      onWritten: (bytes, payloadBytes) => {
        counters.add('bytesSent', bytes);
        counters.add('packetsSent');
        if (payloadBytes >= 0) {
          counters.add('publishSent');
          counters.add('publishBytesSent', payloadBytes);
        }
      },
      topicAliasMaximum: info.topicAliasMaximum,
    });
    this.sessionPresent = !info.cleanStart && services.sessions.existsSync(info.clientId);
    services.router.attach(this);
    services.clients.add(this);
    counters.add('clientsConnected');
    counters.add('connectsTotal');
    counters.notePeak();
    // Every thread, this one at once: other connections of the client end; a clean start also
    // deletes the stored session (SessionStore.endedByCleanStart, called by boot for the notice).
    services.bus.control({ kind: 'takeover', clientId: this.clientId, connectionId: this.connectionId, cleanStart: info.cleanStart });
    if (info.will) {
      void services.wills
        .remember(this.clientId, this.connectionId, info.will, user?.username ?? null)
        .catch((error) => log.error('could not store the will of', this.clientId, error));
    }
  }

  get protocolVersion(): number {
    return this.info.protocolVersion;
  }

  describe(): ClientSummary {
    return {
      clientId: this.clientId,
      username: this.user?.username ?? null,
      protocolVersion: this.info.protocolVersion,
      subscriptions: [...this.subscriptions.keys(), ...this.native.keys()],
      queued: this.outbox.queued,
      inflight: this.outbox.inflightCount,
      connectedAt: this.connectedAt,
    };
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  /** The granted QoS, or a refusal (SUBACK reason code). */
  async subscribe(request: SubscribeRequest, subscriptionIdentifier?: number): Promise<number | Refusal> {
    const filter = request.topic;
    const problem = topicFilterProblem(filter);
    if (problem) return { reasonCode: 0x8f, reason: problem };
    if (this.closed) return { reasonCode: 0x80, reason: 'the connection is closing' };
    const qos = clampQos(request.qos);
    let shared: SharedName | undefined;
    if (isSharedFilter(filter)) {
      const parsed = parseSharedFilter(filter);
      if ('problem' in parsed) return { reasonCode: 0x8f, reason: parsed.problem };
      if (request.nl) return { reasonCode: 0x8f, reason: 'No Local cannot be set on a shared subscription' }; // [MQTT-3.8.3-4]
      shared = parsed;
    }
    if (!this.access.maySubscribe(shared?.filter ?? filter)) return { reasonCode: 0x87, reason: `not allowed to subscribe to ${filter}` };
    if (!shared && !isSysTopic(filter) && servedNatively(filter, true)) return this.subscribeNatively(request, qos);
    // Nothing is created for a subscription: tables appear when retained messages are stored.
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
    if (shared) subscription.shared = shared;
    subscription.qos = qos;
    subscription.noLocal = request.nl === true;
    subscription.retainAsPublished = request.rap === true;
    subscription.identifier = subscriptionIdentifier;
    // A shared subscription's join is in bus order before the SUBACK goes: a message published after
    // the client has its SUBACK comes later in that order, so every thread counts the member for it.
    if (!existing) await this.addSubscription(subscription);
    // MQTT 5 Retain Handling: 0 always, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11];
    // a shared subscription gets none (MQTT 5 section 4.8.2).
    const sendRetained = shared ? false : request.rh === 2 ? false : request.rh === 1 ? !existing : true;
    if (sendRetained) {
      subscription.held ??= [];
      // After the SUBACK, which the connection sends once this resolves.
      setImmediate(() => void this.sendRetained(subscription));
    }
    if (this.info.persistent) await this.services.sessions.save(this.snapshot());
    return qos;
  }

  /** Resolves once a shared subscription's join has its place in bus order (at once for others). */
  private addSubscription(subscription: Subscription): Promise<void> {
    const { router, bus, counters } = this.services;
    this.subscriptions.set(subscription.filter, subscription);
    router.add(subscription);
    counters.add('subscriptions');
    return subscription.shared ? bus.publish(router.membership(subscription, true), false) : Promise.resolve();
  }

  private removeSubscription(subscription: Subscription): void {
    this.subscriptions.delete(subscription.filter);
    this.stopRouting(subscription);
    this.services.counters.add('subscriptions', -1);
  }

  /** Out of this thread's routing, and, for a shared subscription, out of its group on every thread. */
  private stopRouting(subscription: Subscription): void {
    const { router, bus } = this.services;
    router.remove(subscription);
    if (subscription.shared) void bus.publish(router.membership(subscription, false), false);
  }

  /** A subscription under another application's resource, served the way HarperDB serves it. */
  private async subscribeNatively(request: SubscribeRequest, qos: QoS): Promise<number | Refusal> {
    const filter = request.topic;
    const existing = this.native.get(filter);
    existing?.stop();
    try {
      const subscription = await subscribeNatively(filter, qos, this.user, request.rh === 2 || (request.rh === 1 && !!existing), (message) => {
        if (!this.closed) this.outbox.push({ message, position: 0, qos, retain: false });
      });
      this.native.set(filter, subscription);
      return qos;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      return { reasonCode: status === 403 || status === 401 ? 0x87 : 0x80, reason: (error as Error).message };
    }
  }

  unsubscribe(filter: string): boolean {
    const native = this.native.get(filter);
    if (native) {
      native.stop();
      this.native.delete(filter);
      return true;
    }
    const subscription = this.subscriptions.get(filter);
    if (!subscription) return false;
    this.removeSubscription(subscription);
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
        const delivery: Delivery = { message, position: 0, qos: Math.min(message.qos, subscription.qos) as QoS, retain: true };
        if (subscription.identifier !== undefined) delivery.subscriptionIdentifiers = [subscription.identifier];
        this.outbox.push(delivery);
      }
    } catch (error) {
      log.error('could not send retained messages for', subscription.filter, 'to', this.clientId, error);
    } finally {
      const held = subscription.held ?? [];
      subscription.held = null;
      // Offered again to the subscriptions it matched that remain: one still held holds it again.
      for (const [message, position, matching] of held) {
        const current = matching.filter((s) => this.subscriptions.get(s.filter) === s);
        if (current.length > 0) this.offer(message, position, current);
      }
      // A live copy can still be on its way from another thread for a moment.
      setTimeout(() => {
        if (subscription.sentRetained === sent) subscription.sentRetained = null;
      }, RETAINED_ECHO_MS).unref();
    }
  }

  // ---- PUBLISH from the client ----

  /** Resolves once the message is accepted (committed), or to why it was not. */
  async publish(packet: PublishPacket): Promise<Refusal | null> {
    const v5 = this.info.protocolVersion === 5;
    const topic = packet.topic;
    const inbound: Inbound = {
      topic,
      payload: packet.payload ?? Buffer.alloc(0),
      qos: clampQos(packet.qos ?? 0),
      retain: packet.retain === true,
      clientId: this.clientId,
      properties: v5 ? forwardedProperties(packet.properties) : undefined,
    };
    try {
      if (!isSysTopic(topic) && topic !== '' && servedNatively(topic, false)) await publishNatively(topic, inbound.payload, inbound.retain, this.user);
      else await this.inOrder(inbound);
      return null;
    } catch (error) {
      if (error instanceof PublishRefused) {
        if (error.reason === 'quota-exceeded' && this.budget.firstRefusal()) {
          log.warn(`refused PUBLISH from client ${JSON.stringify(this.clientId)}: ${error.message} (logged once per client)`);
        }
        return { reasonCode: REFUSAL_CODES[error.reason], reason: error.message };
      }
      const status = (error as { statusCode?: number }).statusCode;
      log.warn(`could not accept a PUBLISH from ${JSON.stringify(this.clientId)} to ${JSON.stringify(topic.slice(0, 200))}`, error);
      return { reasonCode: status === 403 || status === 401 ? 0x87 : UNSPECIFIED_ERROR, reason: `not accepted: ${(error as Error)?.message ?? error}` };
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
      publisher.publish(inbound, this.access, this.budget).then(resolve, reject).finally(() => {
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

  // ---- delivery to the client ----

  /** The client's PUBACK, PUBREC or PUBCOMP for one of our messages; false when the id is unknown. */
  acknowledged(messageId: number, cmd: 'puback' | 'pubrec' | 'pubcomp', reasonCode: number): boolean {
    // A PUBREC keeps the message in flight until PUBCOMP, unless the client refused it [MQTT-4.3.3].
    const known = cmd === 'pubrec' && reasonCode < 0x80 ? this.outbox.released(messageId) : !!this.outbox.acknowledge(messageId);
    if (known && this.info.persistent) this.dirty();
    return known;
  }

  offer(message: BusMessage, position: number, matching: Subscription[]): void {
    if (this.closed) return;
    // A handed-back group message keeps its own (earlier) position: new to this member all the same.
    if (!message.regroup) {
      if (position <= this.floor) return;
      this.lastOffered = position;
    }
    if (this.info.persistent) this.dirty();
    // A replay reads the log for the client's own subscriptions; a group's message is queued here.
    const shared = matching[0]!.shared;
    if (this.mode === 'replaying' && !shared) {
      // The replay reads QoS 1/2 messages from the log; a QoS 0 one is not kept for a client this far behind.
      if (message.qos === 0) this.services.counters.add('publishDropped');
      return;
    }
    const delivery = this.evaluate(message, position, matching, true);
    if (!delivery) return;
    if (shared) delivery.shared = shared;
    if (!this.outbox.isFull() || (shared && delivery.qos > 0)) {
      this.outbox.push(delivery);
    } else if (delivery.qos === 0) {
      this.services.counters.add('publishDropped');
    } else {
      // Too far behind: stop queueing live messages and read QoS 1/2 ones back from the bus log.
      this.replay({ from: position, inclusive: true, seenUpTo: position - 1 });
    }
  }

  /** What to send for a message matched by `matching`, or null when nothing is due. */
  private evaluate(message: BusMessage, position: number, matching: Subscription[], live: boolean): Delivery | null {
    let qos = -1;
    let retain = false;
    let held: Subscription | undefined;
    let key: string | undefined;
    let identifiers: number[] | undefined;
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
      // Every matching subscription's identifier goes with the message [MQTT-3.3.4-3].
      if (subscription.identifier !== undefined) (identifiers ??= []).push(subscription.identifier);
    }
    if (held) {
      // A new subscription sends its retained messages first. The message waits for it, with every
      // subscription it matched, so it goes out once with all their identifiers.
      held.held?.push([message, position, matching]);
      return null;
    }
    if (qos < 0) return null;
    if (!this.mayRead(message.topic)) return null;
    const delivery: Delivery = { message, position, qos: qos as QoS, retain };
    if (identifiers) delivery.subscriptionIdentifiers = identifiers;
    return delivery;
  }

  private mayRead(topic: string): boolean {
    return this.access.mayRead(topic, () => this.services.retained.tableName(topic));
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
      this.link.disconnect(0x80, 'could not read queued messages');
    });
  }

  private async replayLoop(plan: ReplayPlan): Promise<void> {
    let inclusive = plan.inclusive;
    do {
      const start = this.replayRead;
      // Everything below the routing frontier is in the log snapshot this pass reads (bus.since
      // reads once all that was routed is committed); beyond it the log may lack an earlier batch
      // of another thread that is still on its way. Taken before the read starts: the frontier
      // moves meanwhile. The bus moves its position past a batch once the whole batch is routed,
      // so while a batch is being routed it is still at the batch's start: the messages offered so
      // far count too (the one that started this replay was lost when it was the last of its batch).
      const frontier = Math.max(this.services.bus.position, this.lastOffered + 1);
      for await (const { message, position } of this.services.bus.since(inclusive ? start - 1 : start)) {
        if (this.closed) return;
        if (position >= frontier) break;
        if (inclusive ? position < start : position <= start) continue;
        inclusive = false;
        this.replayRead = position;
        const earlier = plan.resend?.get(position);
        let delivery: Delivery | null;
        if (earlier) {
          delivery = { message, position, qos: earlier.qos, retain: false, dup: earlier.messageId !== undefined };
          if (earlier.messageId !== undefined) delivery.messageId = earlier.messageId;
        } else {
          if (position <= plan.seenUpTo) continue;
          const matching = [...this.subscriptions.values()].filter((s) => topicMatches(s.filter, message.topic));
          delivery = matching.length ? this.evaluate(message, position, matching, false) : null;
          // QoS 0 messages are not kept for clients that were away or fell behind.
          if (!delivery || delivery.qos === 0) continue;
        }
        await this.room();
        if (this.closed) return;
        this.outbox.push(delivery);
      }
      // Every position below the frontier has been looked at, also those the log does not hold
      // (QoS 0 messages): the next pass starts past them, and the loop ends once nothing newer was
      // offered (it went round and round, reading the log, after a QoS 0 message).
      if (frontier - 1 > this.replayRead) {
        this.replayRead = frontier - 1;
        inclusive = false;
      }
    } while (!this.closed && this.lastOffered > this.replayRead);
    this.floor = Math.max(this.floor, this.replayRead);
    this.mode = 'live';
  }

  // ---- persistent sessions ----

  /** HarperDB calls this after CONNACK when `sessionPresent` was true. */
  async resume(): Promise<void> {
    const { sessions } = this.services;
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
      if (isSharedFilter(stored.filter)) {
        const parsed = parseSharedFilter(stored.filter);
        if ('problem' in parsed) continue;
        subscription.shared = parsed;
      }
      void this.addSubscription(subscription).catch((error) => log.error(`could not restore the subscription ${stored.filter} of`, this.clientId, error));
    }
    const resend = new Map(record.pending.map((p) => [p.position, p]));
    this.outbox.reserve(record.pending.flatMap((p) => (p.messageId === undefined ? [] : [p.messageId])));
    const from = Math.min(record.seenUpTo, ...resend.keys());
    this.startReplay({ from, inclusive: resend.size > 0, seenUpTo: record.seenUpTo, resend });
    await sessions.save(this.snapshot());
  }

  private seenUpTo(): number {
    return this.mode === 'live' ? Math.max(this.floor, this.services.router.lastPosition) : this.replayRead;
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
        .filter((d) => d.position > 0)
        .map((d) => (d.messageId === undefined ? { position: d.position, qos: d.qos } : { position: d.position, qos: d.qos, messageId: d.messageId })),
      expiresAt: this.closed && expiry !== null ? Date.now() + expiry * 1000 : null,
      online: this.closed ? null : this.connectionId,
      connection: this.connectionId,
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
    this.takenOver = true;
    this.evictedByCleanStart = cleanStart;
    this.link.disconnect(0x8e, 'session taken over by another connection');
  }

  /** MQTT 5 DISCONNECT may change the session expiry interval [MQTT-3.14.2.2.2]. */
  setSessionExpiry(seconds: number): void {
    this.info.sessionExpiry = seconds >= 0xffffffff ? null : seconds;
    this.info.persistent = seconds > 0;
  }

  /**
   * The session ends: its groups' QoS 1/2 messages it has not acknowledged go to other members of
   * their groups [MQTT-4.8.2] (the leaves are on the bus already). A QoS 2 message it answered with
   * PUBREC is its own: it has it.
   */
  private handBackShared(): void {
    for (const delivery of this.outbox.unacknowledged()) {
      if (!delivery.shared || delivery.released) continue;
      const { group, filter } = delivery.shared;
      const hops = delivery.message.regroup?.hops ?? 0; // one handed to it already keeps its count
      this.services.router.handBack(delivery.message, { group, filter, position: delivery.position, hops });
    }
  }

  /** `graceful`: the client sent DISCONNECT, so its will is discarded. */
  close(graceful: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.detachDevice?.();
    const { router, sessions, wills, delayedWills, counters, publisher } = this.services;
    for (const native of this.native.values()) native.stop();
    // The subscriptions stay in the map: a persistent session saves them below.
    for (const subscription of this.subscriptions.values()) this.stopRouting(subscription);
    counters.add('subscriptions', -this.subscriptions.size);
    counters.add('clientsConnected', -1);
    router.detach(this);
    this.services.clients.delete(this);
    this.outbox.close();
    if (this.info.persistent && !this.evictedByCleanStart) {
      void sessions.save(this.snapshot()).catch((error) => log.error('could not save session', this.clientId, error));
    } else {
      if (this.sessionPresent || this.startedPersistent) {
        // Ended by a session expiry of 0 at DISCONNECT, or taken over by a clean start: what was saved goes.
        void sessions.delete(this.clientId).catch(() => undefined);
      }
      this.handBackShared();
    }
    const will = this.info.will;
    if (!will) return;
    const forget = () => wills.forget(this.clientId, this.connectionId);
    if (graceful) {
      void forget().catch(() => undefined);
      return;
    }
    const send = () =>
      void publisher
        .publish({ ...will, clientId: this.clientId }, this.access)
        .catch((error) => log.warn('could not publish the will of', this.clientId, error))
        .finally(() => void forget().catch(() => undefined));
    // A will delay waits for the session's end or a new connection of the client, which cancels it
    // (boot passes takeover notices to it); a clean-start takeover ends the session now [MQTT-3.1.3-9].
    const wait = willWaitSeconds(will.delaySeconds, this.info.sessionExpiry, this.info.persistent);
    if (wait === 0 || this.evictedByCleanStart) send();
    else if (this.takenOver) void forget().catch(() => undefined); // resumed before the delay passed
    else delayedWills.schedule(this.clientId, wait * 1000, send);
  }
}
