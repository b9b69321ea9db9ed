// One bridge running on this thread (the one holding its lease): the MQTT.js connection, outbound
// delivery from the message log, inbound publishing, retries, and its cursor and figures written
// to the state table a few times a second.
import { randomUUID } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { log } from '../harper/log.js';
import type { BusMessage } from '../messages.js';
import type { Publisher } from '../publish.js';
import type { Router, Subscriber, Subscription } from '../router.js';
import { BacklogTally, type Crossing } from './backlog.js';
import type { BacklogSignal } from './backlogSignal.js';
import { connectionProblem, connectRemote } from './connection.js';
import { receiveInbound, subscribeInbound } from './inbound.js';
import { InflightStore } from './inflightStore.js';
import { Outbound, type LogReader } from './outbound.js';
import { countPending } from './pending.js';
import { Retries } from './retries.js';
import { bridgeOrigin, isDurable, outboundFor } from './rules.js';
import type { BridgeSpec } from './spec.js';
import { ZERO_FIGURES, type BridgeFigures, type BridgeState, type BridgeTables } from './tables.js';

/** How often the cursor and figures are written (at most: only when they changed). */
const SAVE_MS = 100;
const RETRY_SWEEP_MS = 250;
const HEARTBEAT_MS = 1000;

export interface BridgeServices {
  bus: LogReader;
  router: Router;
  publisher: Publisher;
  tables: BridgeTables;
  database: string;
  /** Seconds the message log keeps messages. */
  messageLogTtl: number;
  /** Who runs it (thread and process), for the status. */
  owner: string;
}

export class RunningBridge implements Subscriber {
  readonly clientId: string;
  readonly connectionId = randomUUID();
  private readonly client: MqttClient;
  private readonly outbound: Outbound;
  private readonly subscriptions: Subscription[];
  private readonly timers: NodeJS.Timeout[] = [];
  private dirty = true;
  private lastSaved = 0;
  private saving: Promise<unknown> = Promise.resolve();
  private lastError: string | null;
  private lastErrorAt: number | null;
  private caughtUpAt: number;
  private warnedExpiry = false;
  private stopped = false;
  private readonly backlog: BacklogTally;
  /** Live messages above this position are counted into the backlog as they come; the log has the others. */
  private readonly liveFrom: number;

  private constructor(
    readonly spec: BridgeSpec,
    private readonly services: BridgeServices,
    private readonly figures: BridgeFigures,
    saved: BridgeState | undefined,
    private readonly signal: BacklogSignal,
    private readonly store: InflightStore,
    /** Whether this thread still holds the bridge's lease (see Lease.held). */
    private readonly holdsLease: () => boolean,
  ) {
    this.clientId = bridgeOrigin(spec.name);
    this.lastError = saved?.lastError ?? null;
    this.lastErrorAt = saved?.lastErrorAt ?? null;
    this.caughtUpAt = saved?.caughtUpAt ?? Date.now();
    this.client = connectRemote(spec, store);
    const retries = new Retries(services.tables, spec.name, () => this.spec.maxAttempts);
    // A new bridge starts at the present; a known one where it stopped.
    const cursor = saved?.cursor ?? services.bus.position - 1;
    this.backlog = new BacklogTally(spec);
    const hooks = { changed: () => this.changed(), failed: (what: string, error: unknown) => this.failed(what, error), passed: (messages: number, bytes: number) => this.counted(-messages, -bytes), mayRun: () => this.mayRun() };
    this.outbound = new Outbound(spec, this.client, services.bus, retries, store, figures, hooks, cursor, saved?.dispatchedUpTo ?? cursor);
    this.subscriptions = [...new Set(spec.outbound.map((rule) => rule.filter))].map((filter) => ({ subscriber: this, filter, qos: 2, noLocal: false, retainAsPublished: true, held: null, sentRetained: null }));
    this.wire();
    // In the same turn as the subscriptions: every later message is offered, every earlier one is in the log.
    this.liveFrom = services.bus.position - 1;
    void this.countBacklog(cursor);
  }

  static async start(spec: BridgeSpec, services: BridgeServices, signal: BacklogSignal, holdsLease: () => boolean): Promise<RunningBridge> {
    const saved = await services.tables.state.get(spec.name);
    const figures: BridgeFigures = { ...ZERO_FIGURES };
    if (saved) for (const key of Object.keys(ZERO_FIGURES) as Array<keyof BridgeFigures>) figures[key] = saved[key] ?? 0;
    // Not spread: a record HarperDB hands back keeps its fields behind getters.
    const failed = (what: string, error: unknown) => log.warn(`bridge ${spec.name}: ${what}: ${(error as Error)?.message ?? error}`);
    const store = await InflightStore.restore(services.tables.inflight, spec.name, saved?.cursor ?? services.bus.position - 1, failed);
    if (store.resuming > 0) log.info(`bridge ${spec.name}: resuming ${store.resuming} QoS 2 exchanges with their packet ids`);
    return new RunningBridge(spec, services, figures, saved, signal, store, holdsLease);
  }

  /** The backlog the log holds at start; live messages and acknowledgements are counted meanwhile. */
  private async countBacklog(cursor: number): Promise<void> {
    if (this.spec.outbound.length === 0) return void this.crossed(this.backlog.seed(0, 0));
    try {
      const { messages, bytes } = await countPending(this.spec, this.services.bus, cursor, this.liveFrom);
      if (!this.stopped) this.crossed(this.backlog.seed(messages, bytes));
    } catch (error) {
      // Unseeded: no cap is enforced and the status counts from the log.
      this.failed('counting the backlog', error);
    }
  }

  private counted(messages: number, bytes: number): void {
    this.crossed(this.backlog.add(messages, bytes));
  }

  /** Never silent: each crossing of the cap is logged once and shown in the status until it is over. */
  private crossed(crossing: Crossing): void {
    if (!crossing) return;
    this.signal.full = this.backlog.full;
    this.changed();
    if (crossing === 'full') log.warn(`bridge ${this.spec.name}: ${this.backlog.warning()}`);
    else log.info(`bridge ${this.spec.name}: backlog below its cap again (${this.backlog.messages} messages, ${this.backlog.bytes} bytes); local publishes are accepted`);
  }

  private wire(): void {
    const { client, spec } = this;
    let connections = 0;
    client.on('connect', (connack) => {
      if (connections++ > 0) this.figures.reconnects++;
      log.info(`bridge ${spec.name}: connected to ${spec.url}${connack.sessionPresent ? ' (session present)' : ''}`);
      this.changed();
      this.outbound.connected(connack.properties);
    });
    client.on('error', (error) => this.failed(`connection to ${spec.url}`, connectionProblem(error)));
    client.on('close', () => {
      this.outbound.disconnected();
      this.changed();
      // Taken over while this thread stood still: reconnecting would throw the new owner off the remote.
      if (!this.mayRun()) void this.client.endAsync(true).catch(() => undefined);
    });
    // A resumed QoS 2 PUBLISH the remote refuses is sent again from the log, to be retried and dead-lettered like any other.
    client.on('packetreceive', (packet) => {
      const answer = packet as { cmd: string; messageId?: number; reasonCode?: number };
      if (answer.cmd === 'pubrec' && (answer.reasonCode ?? 0) >= 0x80 && answer.messageId !== undefined) this.store.refused(answer.messageId);
    });
    subscribeInbound(client, spec);
    receiveInbound(client, spec, this.services.publisher, this.services.database, this.figures, (what, error) => this.failed(what, error));
    this.services.router.attach(this);
    for (const subscription of this.subscriptions) this.services.router.add(subscription);
    this.timers.push(setInterval(() => this.save(), SAVE_MS));
    this.timers.push(setInterval(() => void this.outbound.retryDue().catch((error) => this.failed('reading due retries', error)), RETRY_SWEEP_MS));
    // Also moves the cursor over traffic no rule matches, so a restart does not read it again.
    this.timers.push(setInterval(() => this.outbound.pump(), 1000));
  }

  /** Live messages: durable ones wake the log reader; QoS 0 ones are forwarded now if connected. */
  offer(message: BusMessage, position: number): void {
    if (isDurable(message)) {
      if (position > this.liveFrom && outboundFor(this.spec.outbound, message, this.spec.name)) this.counted(1, message.payload.length);
      return this.outbound.pump();
    }
    const remote = outboundFor(this.spec.outbound, message, this.spec.name);
    if (!remote || !this.mayRun()) return;
    if (!this.client.connected) {
      this.figures.qos0Dropped++;
      return;
    }
    this.outbound.send(message, { ...remote, qos: 0 }, 1, () => {
      this.figures.acknowledged++;
    });
    this.changed();
  }

  evict(): void {
    /* no other connection takes over a bridge's id on this broker */
  }

  private changed(): void {
    this.dirty = true;
  }

  private failed(what: string, error: unknown): void {
    const text = `${what}: ${(error as Error)?.message ?? String(error)}`;
    if (text !== this.lastError) log.warn(`bridge ${this.spec.name}: ${text}`);
    this.lastError = text;
    this.lastErrorAt = Date.now();
    this.changed();
  }

  /** The state row as it is now. */
  snapshot(): BridgeState {
    const now = Date.now();
    if (this.outbound.caughtUp) this.caughtUpAt = now;
    const connected = this.client.connected;
    return {
      id: this.spec.name,
      ...this.figures,
      cursor: this.outbound.cursor.position,
      dispatchedUpTo: Math.max(this.outbound.cursor.readPosition, this.outbound.cursor.position),
      connected,
      state: !connected ? (this.lastError ? 'error' : 'connecting') : this.outbound.caughtUp ? 'live' : 'catching up',
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      caughtUpAt: this.caughtUpAt,
      pendingMessages: this.backlog.seeded ? this.backlog.messages : null,
      pendingBytes: this.backlog.seeded ? this.backlog.bytes : null,
      backlogFullSince: this.backlog.fullSince,
      warning: this.backlog.warning(),
      updatedAt: now,
      owner: this.services.owner,
    };
  }

  /** False once another thread holds the lease: nothing more is sent or saved (the manager stops it). */
  private mayRun(): boolean {
    return !this.stopped && this.holdsLease();
  }

  private save(): Promise<unknown> {
    // The new owner's cursor and figures are not overwritten with older ones.
    if (!this.holdsLease()) return this.saving;
    // Also saved now and then unchanged: a fresh `updatedAt` tells status readers the bridge runs.
    const now = Date.now();
    if (!this.dirty && now - this.lastSaved < HEARTBEAT_MS) return this.saving;
    this.dirty = false;
    this.lastSaved = now;
    const row = this.snapshot();
    this.warnIfExpired(row);
    this.saving = this.saving
      .then(() => this.services.tables.state.put(row.id, row))
      .then(() => this.store.settled(row.cursor))
      .catch((error) => this.failed('saving the cursor', error));
    return this.saving;
  }

  /** Behind for longer than the message log keeps messages: the oldest unsent ones may be gone. */
  private warnIfExpired(row: BridgeState): void {
    if (this.warnedExpiry || row.state === 'live' || row.updatedAt - row.caughtUpAt < this.services.messageLogTtl * 1000) return;
    this.warnedExpiry = true;
    log.error(`bridge ${this.spec.name}: behind since ${new Date(row.caughtUpAt).toISOString()}, longer than messageLogTtl (${this.services.messageLogTtl} s): QoS 1/2 messages older than that have expired from the message log and will not be forwarded`);
    this.lastError = 'behind for longer than messageLogTtl: the oldest unsent messages may have expired from the message log';
    this.lastErrorAt = row.updatedAt;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.outbound.stopped = true;
    // The next thread to run it counts again; until then nothing is refused for it (unless it runs already).
    if (this.holdsLease()) this.signal.full = false;
    for (const timer of this.timers) clearInterval(timer);
    for (const subscription of this.subscriptions) this.services.router.remove(subscription);
    this.services.router.detach(this);
    this.dirty = true;
    await this.save();
    await this.client.endAsync(true).catch(() => undefined);
  }
}
