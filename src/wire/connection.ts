// One MQTT network connection, from its first byte to its close: framing (with the maximum packet
// size), parsing, CONNECT and authentication, keep alive, the inbound flow (receive maximum, topic
// aliases, QoS 2 state, acknowledgements in order) and every packet the client sends, handed to its
// session. Protocol errors close the connection as the specification says [MQTT-4.13].
import type { EventEmitter } from 'node:events';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import type { HarperUser } from '../authorize.js';
import { log } from '../harper/log.js';
import type { Counters } from '../stats/counters.js';
import { ConnectRefused, connackFor, readConnect, refusingConnack, type ConnectInfo, type ConnectPacket, type ServerLimits } from './connect.js';
import { FrameReader, readFixedHeader, topicsWellFormed } from './frames.js';
import type { WireSocket } from './socket.js';
import { InboundAliases } from './topicAliases.js';

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

/** A refusal a session reports for a PUBLISH or SUBSCRIBE: an MQTT 5 reason code and a reason. */
export interface Refusal {
  reasonCode: number;
  reason: string;
}

/** What a session does with a connected client's packets (ClientSession implements it). */
export interface SessionHandler {
  readonly sessionPresent: boolean;
  /** Granted QoS, or a refusal (SUBACK reason code >= 0x80). */
  subscribe(request: SubscribeRequest, subscriptionIdentifier?: number): Promise<number | Refusal>;
  /** True when a subscription existed. */
  unsubscribe(filter: string): boolean;
  /** Resolves once the message is accepted (committed), or to its refusal. */
  publish(packet: PublishPacket): Promise<Refusal | null>;
  /** PUBACK, PUBREC or PUBCOMP from the client for one of our messages; false when the id is unknown. */
  acknowledged(messageId: number, cmd: 'puback' | 'pubrec' | 'pubcomp', reasonCode: number): boolean;
  resume(): Promise<void>;
  /** MQTT 5 DISCONNECT may change the session expiry [MQTT-3.14.2.2.2]. */
  setSessionExpiry(seconds: number): void;
  /** `graceful`: DISCONNECT without a will; `willToo`: DISCONNECT 0x04, publish the will anyway. */
  close(graceful: boolean): void;
}

/** server.mqtt as other components know it: events, the set of sessions, an optional authorizer. */
export interface MqttCompat {
  events: EventEmitter;
  sessions: Set<object>;
  authorizeClient?: (packet: ConnectPacket, user: HarperUser | undefined) => void;
}

export interface ConnectionServices {
  limits: ServerLimits;
  counters: Counters;
  mqtt: MqttCompat;
  /** The HarperDB user of a CONNECT (undefined: anonymous, where allowed); throws ConnectRefused. */
  authenticate(packet: ConnectPacket, socket: WireSocket): Promise<HarperUser | undefined>;
  /** The session for an accepted CONNECT (may wait while the broker starts); throws ConnectRefused. */
  open(info: ConnectInfo, user: HarperUser | undefined, socket: WireSocket, connection: Connection): SessionHandler | Promise<SessionHandler>;
}

type State = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

const CONNECT_TIMEOUT_MS = 10_000;
/** Longest a connection's packets keep the thread before others get a turn. */
const READ_SLICE_MS = 10;
const EMPTY = Buffer.alloc(0);
/** Reason codes of a server DISCONNECT [MQTT-3.14.2.1]. */
export const DISCONNECT = {
  malformed: 0x81,
  protocolError: 0x82,
  notAuthorized: 0x87,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  receiveMaximumExceeded: 0x93,
  quotaExceeded: 0x97,
  serverShuttingDown: 0x8b,
} as const;

export class Connection {
  private state: State = 'awaiting-connect';
  private readonly frames: FrameReader;
  private parser = makeParser({ protocolVersion: 5 });
  private protocolVersion = 4;
  private info: ConnectInfo | null = null;
  private session: SessionHandler | null = null;
  /** The session object handed to server.mqtt.events listeners and kept in server.mqtt.sessions. */
  private compatSession: object | null = null;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** Cleared as soon as CONNECT arrives: a pending timer would keep the whole connection in memory for 10 s. */
  private connectTimer: NodeJS.Timeout | undefined;
  private lastPacketAt = Date.now();
  private aliases: InboundAliases | null = null;
  /** QoS 1/2 PUBLISH packets from the client not yet acknowledged (PUBACK, or PUBCOMP for QoS 2). */
  private inboundUnacked = 0;
  /** QoS 2 packet ids received (and published) whose PUBREL has not come yet. */
  private readonly awaitingRelease = new Set<number>();
  /** Acknowledgements in the order their PUBLISH came [MQTT-4.6.0-2]: sent from the head once decided. */
  private readonly acks: Array<{ packet: Record<string, unknown> | null }> = [];
  private closeWithWill = true;
  /**
   * Set once the server has decided to end the connection: nothing more that arrives is read.
   * Without it, every packet behind a violation in the same burst is parsed and violates again.
   */
  private ending = false;
  /** Packets that came behind the CONNECT before it was answered (clients need not wait for CONNACK). */
  private early: Packet[] = [];

  constructor(
    readonly socket: WireSocket,
    private readonly services: ConnectionServices,
  ) {
    this.frames = new FrameReader(services.limits.maxPacketSize);
    services.counters.add('socketsTotal');
    services.mqtt.events.emit('connection', socket.raw);
    this.parser.on('packet', (packet) => this.dispatch(packet));
    this.parser.on('error', (error) => this.protocolViolation(DISCONNECT.malformed, `malformed packet: ${error.message}`));
    socket.onData((chunk) => this.onData(chunk));
    socket.onClose(() => this.onClose());
    this.connectTimer = setTimeout(() => {
      if (this.state === 'awaiting-connect') this.abort('no CONNECT within 10 s');
    }, CONNECT_TIMEOUT_MS).unref();
  }

  /** Closed, or closing by the server's decision: nothing more that arrives is read. */
  private get finished(): boolean {
    return this.state === 'closed' || this.ending;
  }

  get clientId(): string | undefined {
    return this.info?.clientId;
  }

  get version(): number {
    return this.protocolVersion;
  }

  /** Writes one packet; false when the socket asks to wait for 'drain'. */
  send(packet: Record<string, unknown>): boolean {
    if (this.socket.closed) return false;
    const bytes = generate(packet as unknown as Packet, { protocolVersion: this.protocolVersion as 3 | 4 | 5 });
    const { counters } = this.services;
    counters.add('bytesSent', bytes.length);
    counters.add('packetsSent');
    return this.socket.write(bytes);
  }

  /**
   * Server-initiated end: MQTT 5 clients get DISCONNECT with the reason first [MQTT-3.14]; the
   * session's will is published unless `withWill` is false.
   */
  disconnect(reasonCode: number, reason: string, withWill = true): void {
    if (this.finished) return;
    this.ending = true;
    this.closeWithWill = withWill;
    if (this.protocolVersion === 5 && this.state === 'connected') {
      const packet: Record<string, unknown> = { cmd: 'disconnect', reasonCode };
      if (this.info?.requestProblemInformation !== false) packet.properties = { reasonString: reason };
      this.send(packet);
    }
    log.debug(`closing the connection of ${this.clientId ?? this.socket.remoteAddress}: ${reason}`);
    this.socket.end();
  }

  // ---- bytes in ----

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    this.services.counters.add('bytesReceived', chunk.length);
    this.readPackets(chunk);
  }

  /**
   * Handles the whole packets of `chunk` for at most READ_SLICE_MS, then lets the thread serve
   * others before going on (200 SUBSCRIBEs of 200 filters in one burst are a second of work).
   */
  private readPackets(chunk: Buffer): void {
    const until = performance.now() + READ_SLICE_MS;
    const problem = this.frames.push(chunk, (packet) => this.onPacketBytes(packet), () => performance.now() > until);
    if (problem === 'more') {
      this.socket.pause('slice');
      setImmediate(() => {
        if (this.finished) return;
        this.socket.resume('slice');
        this.readPackets(EMPTY);
      });
      return;
    }
    if (!problem) return;
    if (problem.kind === 'too-large') this.protocolViolation(DISCONNECT.packetTooLarge, `packet of ${problem.size} bytes is over the maximum of ${this.frames.maxPacketSize}`);
    else this.protocolViolation(DISCONNECT.malformed, problem.reason);
  }

  private onPacketBytes(bytes: Buffer): void {
    if (this.finished) return;
    this.services.counters.add('packetsReceived');
    this.lastPacketAt = Date.now();
    const type = bytes[0]! >> 4;
    if (this.state === 'awaiting-connect') {
      // The first packet must be CONNECT [MQTT-3.1.0-1]; an unknown protocol level gets return code 1 [MQTT-3.1.2-2].
      if (type !== 1) return this.abort('first packet is not CONNECT');
      const level = protocolLevel(bytes);
      if (level !== 3 && level !== 4 && level !== 5) {
        this.send({ cmd: 'connack', returnCode: 1, sessionPresent: false });
        return this.abort(`unsupported protocol level ${level}`);
      }
    } else if (type === 1) {
      // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
      return this.protocolViolation(DISCONNECT.protocolError, 'second CONNECT on one connection');
    }
    if ((type === 3 || type === 8 || type === 10) && !topicsWellFormed(bytes, this.protocolVersion)) {
      // Ill-formed UTF-8 or U+0000 in a topic or filter: a Malformed Packet [MQTT-1.5.4-1, -2].
      return this.protocolViolation(DISCONNECT.malformed, 'topic or filter is not well-formed UTF-8');
    }
    this.parser.parse(bytes);
  }

  private dispatch(packet: Packet): void {
    if (this.finished) return;
    if (this.state === 'connecting') {
      this.early.push(packet);
      return;
    }
    try {
      switch (packet.cmd) {
        case 'connect':
          void this.onConnect(packet as unknown as ConnectPacket);
          return;
        case 'publish':
          return this.onPublish(packet as unknown as PublishPacket);
        case 'pubrel':
          return this.onPubrel((packet as { messageId: number }).messageId);
        case 'puback':
        case 'pubrec':
        case 'pubcomp':
          return this.onAck(packet.cmd, (packet as { messageId: number; reasonCode?: number }).messageId, (packet as { reasonCode?: number }).reasonCode ?? 0);
        case 'subscribe':
          return void this.onSubscribe(packet as unknown as { messageId: number; subscriptions: SubscribeRequest[]; properties?: { subscriptionIdentifier?: number | number[] } });
        case 'unsubscribe':
          return this.onUnsubscribe(packet as unknown as { messageId: number; unsubscriptions: string[] });
        case 'pingreq':
          this.send({ cmd: 'pingresp' });
          return;
        case 'disconnect':
          return this.onDisconnect(packet as unknown as { reasonCode?: number; properties?: { sessionExpiryInterval?: number } });
        case 'auth':
          return this.protocolViolation(0x8c, 'enhanced authentication is not supported');
        default:
          return this.protocolViolation(DISCONNECT.protocolError, `unexpected ${packet.cmd} packet`);
      }
    } catch (error) {
      log.error(`error handling ${packet.cmd} from ${this.clientId}`, error);
      this.services.mqtt.events.emit('error', error, this.socket.raw, packet, this.compatSession);
      this.disconnect(0x80, 'internal error');
    }
  }

  // ---- CONNECT ----

  private async onConnect(packet: ConnectPacket): Promise<void> {
    this.state = 'connecting';
    clearTimeout(this.connectTimer);
    this.protocolVersion = packet.protocolVersion ?? 4;
    this.parser = makeParser({ protocolVersion: this.protocolVersion as 3 | 4 | 5 });
    this.parser.on('packet', (next) => this.dispatch(next));
    this.parser.on('error', (error) => this.protocolViolation(DISCONNECT.malformed, `malformed packet: ${error.message}`));
    this.socket.pause('connect'); // nothing else is read until the CONNECT is answered
    const { limits, mqtt } = this.services;
    let info: ConnectInfo;
    let user: HarperUser | undefined;
    try {
      info = readConnect(packet, limits);
      user = await this.services.authenticate(packet, this.socket);
      mqtt.authorizeClient?.(packet, user);
      if (this.socket.closed) return;
      this.info = info;
      this.session = await this.services.open(info, user, this.socket, this);
    } catch (error) {
      const refusal = error instanceof ConnectRefused ? error : new ConnectRefused(normalizeRefusal(error), (error as Error)?.message ?? String(error));
      mqtt.events.emit('auth-failed', packet, this.socket.raw, error);
      if (!(error instanceof ConnectRefused)) log.warn(`refused CONNECT of ${JSON.stringify(packet.clientId)}: ${refusal.message}`);
      this.send(refusingConnack(this.protocolVersion, refusal.reasonCode, refusal.message));
      this.abort(`CONNECT refused: ${refusal.message}`);
      return;
    }
    this.state = 'connected';
    this.aliases = new InboundAliases(limits.topicAliasMaximum);
    this.compatSession = { sessionId: info.clientId, user, socket: this.socket.raw, protocolVersion: info.protocolVersion };
    mqtt.sessions.add(this.compatSession);
    mqtt.events.emit('connected', this.compatSession, this.socket.raw);
    this.send(connackFor(info, this.session.sessionPresent, limits));
    this.startKeepalive(info.keepalive);
    for (const packet of this.early.splice(0)) this.dispatch(packet);
    this.socket.resume('connect');
    if (this.session.sessionPresent) {
      this.session.resume().catch((error) => {
        log.error(`could not resume the session of ${info.clientId}`, error);
        this.disconnect(0x80, 'could not resume the session');
      });
    }
  }

  private startKeepalive(seconds: number): void {
    if (seconds <= 0) return;
    // [MQTT-3.1.2-24]: one and a half times the keep alive without a packet ends the connection.
    const limitMs = seconds * 1500;
    const check = () => {
      const silent = Date.now() - this.lastPacketAt;
      if (silent >= limitMs) this.disconnect(DISCONNECT.keepAliveTimeout, 'keep alive timeout');
      else this.keepaliveTimer = setTimeout(check, limitMs - silent);
    };
    this.keepaliveTimer = setTimeout(check, limitMs);
  }

  // ---- PUBLISH from the client ----

  private onPublish(packet: PublishPacket): void {
    const session = this.session;
    if (!session || !this.info) return;
    const qos = packet.qos ?? 0;
    if (qos > 0) {
      // Receive Maximum (MQTT 5): more unacknowledged QoS 1/2 packets than announced [MQTT-3.3.4-9].
      if (this.protocolVersion === 5 && this.inboundUnacked >= this.services.limits.receiveMaximum) {
        return this.protocolViolation(DISCONNECT.receiveMaximumExceeded, `more than ${this.services.limits.receiveMaximum} unacknowledged QoS 1/2 messages`);
      }
      this.inboundUnacked++;
    }
    if (this.protocolVersion === 5) {
      const alias = this.aliases!.resolve(packet.topic, packet.properties?.topicAlias as number | undefined);
      if ('reasonCode' in alias) return this.protocolViolation(alias.reasonCode, alias.reason);
      // An empty topic needs an alias [MQTT-3.3.2-8].
      if (alias.topic === '') return this.protocolViolation(DISCONNECT.protocolError, 'empty topic name without a topic alias');
      packet.topic = alias.topic;
      if (packet.properties) delete packet.properties.topicAlias;
    }
    this.services.counters.add('publishReceived');
    this.services.counters.add('publishBytesReceived', packet.payload?.length ?? 0);
    const messageId = packet.messageId!;
    if (qos === 2 && this.awaitingRelease.has(messageId)) {
      // A repeated QoS 2 PUBLISH before its PUBREL: acknowledged again, not published again [MQTT-4.3.3-9].
      this.inboundUnacked--;
      this.queueAck(Promise.resolve({ cmd: 'pubrec', messageId, reasonCode: 0 }));
      return;
    }
    const accepted = session.publish(packet);
    if (qos === 0) {
      void accepted.then((refusal) => refusal && this.refusedPublish(packet, refusal));
      return;
    }
    if (qos === 2) this.awaitingRelease.add(messageId);
    this.queueAck(
      accepted.then((refusal) => {
        if (refusal) {
          if (qos === 2) this.awaitingRelease.delete(messageId);
          if (this.protocolVersion !== 5) return this.refusedPublish(packet, refusal);
          this.refusedPublish(packet, refusal);
          this.inboundUnacked--;
          return this.withReason({ cmd: qos === 2 ? 'pubrec' : 'puback', messageId, reasonCode: refusal.reasonCode }, refusal.reason);
        }
        if (qos === 1) this.inboundUnacked--; // QoS 2 counts until PUBCOMP
        return { cmd: qos === 2 ? 'pubrec' : 'puback', messageId, reasonCode: 0 };
      }),
    );
  }

  /** MQTT 3.1.1 has no way to refuse a PUBLISH: the connection closes [MQTT-4.8.0-1]. Returns null (nothing to send). */
  private refusedPublish(packet: PublishPacket, refusal: Refusal): null {
    this.services.counters.add('publishDropped');
    const topic = JSON.stringify(packet.topic.length > 200 ? packet.topic.slice(0, 200) + '...' : packet.topic);
    const line = `refused PUBLISH from client ${JSON.stringify(this.clientId)} to ${topic}: ${refusal.reason}`;
    if (this.protocolVersion === 5) {
      log.debug(line);
      return null;
    }
    log.warn(`${line}; closing the connection (MQTT 3.1.1 cannot refuse a PUBLISH)`);
    this.disconnect(refusal.reasonCode, refusal.reason);
    return null;
  }

  private onPubrel(messageId: number): void {
    const known = this.awaitingRelease.delete(messageId);
    if (known) this.inboundUnacked--;
    // Behind the PUBRECs still waiting, so acknowledgements keep their order.
    this.queueAck(Promise.resolve({ cmd: 'pubcomp', messageId, reasonCode: known ? 0 : 0x92 }));
  }

  private queueAck(decided: Promise<Record<string, unknown> | null>): void {
    const entry: { packet: Record<string, unknown> | null; done?: boolean } = { packet: null };
    this.acks.push(entry);
    decided.then(
      (packet) => {
        entry.packet = packet;
        entry.done = true;
        this.flushAcks();
      },
      (error) => {
        log.error(`could not handle a PUBLISH of ${this.clientId}`, error);
        entry.done = true;
        this.disconnect(0x80, 'internal error');
      },
    );
  }

  private flushAcks(): void {
    while (this.acks.length > 0 && (this.acks[0] as { done?: boolean }).done) {
      const { packet } = this.acks.shift()!;
      if (packet && this.state === 'connected') this.send(packet);
    }
  }

  // ---- acknowledgements of our messages ----

  private onAck(cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number, reasonCode: number): void {
    const known = this.session?.acknowledged(messageId, cmd, reasonCode) ?? false;
    // PUBREC: release the message, unless the client refused it [MQTT-4.3.3-4].
    if (cmd === 'pubrec' && reasonCode < 0x80) this.send({ cmd: 'pubrel', messageId, reasonCode: known ? 0 : 0x92 });
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  private async onSubscribe(packet: { messageId: number; subscriptions: SubscribeRequest[]; properties?: { subscriptionIdentifier?: number | number[] } }): Promise<void> {
    const session = this.session;
    if (!session) return;
    const identifierProperty = packet.properties?.subscriptionIdentifier;
    const identifier = Array.isArray(identifierProperty) ? identifierProperty[0] : identifierProperty;
    if (identifier === 0) return this.protocolViolation(DISCONNECT.protocolError, 'subscription identifier 0'); // [MQTT-3.8.2-2]
    const results = await Promise.all(packet.subscriptions.map((request) => session.subscribe(request, identifier)));
    const reasons: string[] = [];
    const granted = results.map((result) => {
      if (typeof result === 'number') return result;
      reasons.push(result.reason);
      // MQTT 3.1.1 has one failure code [MQTT-3.9.3].
      return this.protocolVersion === 5 ? result.reasonCode : 0x80;
    });
    this.send(this.withReason({ cmd: 'suback', messageId: packet.messageId, granted }, reasons.join('; ')));
  }

  private onUnsubscribe(packet: { messageId: number; unsubscriptions: string[] }): void {
    const session = this.session;
    if (!session) return;
    const granted = packet.unsubscriptions.map((filter) => (session.unsubscribe(filter) ? 0 : 0x11)); // 0x11: no subscription existed
    this.send(this.protocolVersion === 5 ? { cmd: 'unsuback', messageId: packet.messageId, granted } : { cmd: 'unsuback', messageId: packet.messageId });
  }

  // ---- DISCONNECT and close ----

  private onDisconnect(packet: { reasonCode?: number; properties?: { sessionExpiryInterval?: number } }): void {
    const expiry = packet.properties?.sessionExpiryInterval;
    if (expiry !== undefined && this.info) {
      // A session that was to end with the connection cannot be given an expiry now [MQTT-3.14.2-2].
      if (this.info.sessionExpiry === 0) return this.protocolViolation(DISCONNECT.protocolError, 'session expiry set at DISCONNECT after 0 at CONNECT');
      this.session?.setSessionExpiry(expiry);
    }
    // Reason 0x04, "disconnect with will message", keeps the will [MQTT-3.14.4-3].
    this.closeWithWill = packet.reasonCode === 0x04;
    this.socket.end();
  }

  private protocolViolation(reasonCode: number, reason: string): void {
    if (this.finished) return;
    log.debug(`protocol violation by ${this.clientId ?? this.socket.remoteAddress}: ${reason}`);
    this.services.mqtt.events.emit('error', new Error(reason), this.socket.raw, undefined, this.compatSession);
    this.disconnect(reasonCode, reason);
  }

  /** Closes before the session exists (no will, nothing to say). */
  private abort(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    log.debug(`closing the connection of ${this.socket.remoteAddress}: ${reason}`);
    this.socket.end();
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    clearTimeout(this.keepaliveTimer);
    if (this.session) this.session.close(!this.closeWithWill);
    if (wasConnected && this.compatSession) {
      this.services.mqtt.sessions.delete(this.compatSession);
      this.services.mqtt.events.emit('disconnected', this.compatSession, this.socket.raw);
    }
  }

  /** Adds a reason string where the client did not ask for none [MQTT-3.1.2-29]. */
  private withReason(packet: Record<string, unknown>, reason: string): Record<string, unknown> {
    if (this.protocolVersion === 5 && reason && this.info?.requestProblemInformation !== false) packet.properties = { reasonString: reason };
    return packet;
  }
}

/** The protocol level byte of a whole CONNECT packet (after its protocol name). */
function protocolLevel(bytes: Buffer): number {
  const header = readFixedHeader(bytes, 0);
  if (!header || 'reason' in header) return -1;
  const nameLength = bytes.readUInt16BE(header.headerBytes);
  return bytes[header.headerBytes + 2 + nameLength] ?? -1;
}

/** A CONNECT failure that is not a ConnectRefused: bad credentials from HarperDB, or anything else. */
function normalizeRefusal(error: unknown): number {
  const status = (error as { statusCode?: number })?.statusCode;
  if (status === 401) return 0x86;
  if (status === 403) return 0x87;
  return 0x80;
}
