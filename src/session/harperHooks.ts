// The only module that touches HarperDB's MQTT internals (HarperDB 4.7, server/mqtt.ts and
// server/DurableSubscriptionsSession.ts). HarperDB keeps the network side: sockets, CONNECT and
// authentication, packet parsing, CONNACK/SUBACK/PUBACK, keepalive. This module swaps the
// per-connection session methods HarperDB calls for SUBSCRIBE, UNSUBSCRIBE, PUBLISH, PUBACK/PUBCOMP
// and disconnects, so topics are routed by this component instead of by resource lookup.
import type { EventEmitter } from 'node:events';
import { server } from 'harperdb';
import type { HarperUser } from '../authorize.js';
import { log } from '../harper/log.js';
import type { Counters } from '../stats/counters.js';
import { FrameCounter, isPublish, publishPayloadBytes } from '../stats/wire.js';
import { ConnectRefused, type ConnectPacket } from './connect.js';
import type { PublishPacket, SubscribeRequest } from './client.js';
import type { Transport } from './outbox.js';

/** What this component does for one connection; ClientSession implements it. */
export interface ConnectionHandler {
  readonly sessionPresent: boolean;
  readonly protocolVersion: number;
  subscribe(request: SubscribeRequest): Promise<{ qos: number } | undefined>;
  unsubscribe(filter: string): boolean;
  publish(packet: PublishPacket): Promise<boolean>;
  resume(): Promise<void>;
  /** False when the packet id is not this handler's. */
  acknowledge(messageId: number): boolean;
  close(graceful: boolean): void;
  /** Called once HarperDB also delivers to this connection (natively served topics). */
  shareIdsWithHarper(): void;
}

export interface Hooks {
  /** Called from HarperDB's authorizeClient with the CONNECT packet; may throw to refuse. */
  onConnect(packet: ConnectPacket, user: HarperUser | undefined): void;
  /** Called from the `connected` event; null closes the connection. */
  onConnected(clientId: string, user: HarperUser | undefined, transport: Transport): ConnectionHandler | null;
  /** Topics and filters that stay with HarperDB's own MQTT handling (another app's resources). */
  servedNatively(topicOrFilter: string, isFilter: boolean): boolean;
  counters: Counters;
}

interface HarperMqtt {
  sessions: Set<HarperSession>;
  events: EventEmitter;
  authorizeClient?: (packet: ConnectPacket, user: HarperUser | undefined) => void;
}

interface HarperSession {
  sessionId: string;
  user?: HarperUser;
  sessionWasPresent?: boolean;
  /** DurableSubscriptionsSession only: HarperDB's stored state for the client. */
  sessionRecord?: { subscriptions?: unknown[] };
  keepaliveTimer?: NodeJS.Timeout;
  socket?: RawSocket;
  addSubscription(request: SubscribeRequest, needsAck: boolean): Promise<unknown>;
  removeSubscription(filter: string): unknown;
  publish(packet: PublishPacket, data: unknown): Promise<unknown>;
  resume(): Promise<void>;
  acknowledge(messageId: number): void;
  disconnect(clientTerminated?: boolean): void;
  receivedPacket?(): void;
}

/** A TCP/TLS socket or a `ws` WebSocket, as HarperDB hands them to the events. */
interface RawSocket {
  write?(data: Buffer): boolean;
  end?(): void;
  destroy?(): void;
  destroyed?: boolean;
  send?(data: Buffer): void;
  close?(): void;
  bufferedAmount?: number;
  readyState?: number;
  once?(event: string, listener: () => void): void;
  on?(event: string, listener: (data: Buffer) => void): void;
  pause?(): void;
  resume?(): void;
  /** A `ws` WebSocket's TCP socket. */
  _socket?: { pause?(): void; resume?(): void };
}

/** What one connection sends and receives, counted for $SYS. */
interface WireMeter {
  protocolVersion: number;
}

const SESSION_METHODS = ['addSubscription', 'removeSubscription', 'publish', 'resume', 'acknowledge', 'disconnect'] as const;
const WS_HIGH_WATER = 1 << 20;
const WS_DRAIN_POLL_MS = 10;
const CLOSE_GRACE_MS = 1000;

/** HarperDB's MQTT settings object, checked so a changed HarperDB fails here and not mid-connection. */
function harperMqtt(): HarperMqtt {
  const mqtt = (server as unknown as { mqtt?: Partial<HarperMqtt> }).mqtt;
  if (!mqtt || typeof mqtt.events?.on !== 'function' || !(mqtt.sessions instanceof Set)) {
    throw new Error(
      'harper-mqtt-bridge: server.mqtt.events/sessions not found. This component needs HarperDB 4.7 with MQTT enabled ' +
        '(mqtt: in harperdb-config.yaml) and must load after it.',
    );
  }
  return mqtt as HarperMqtt;
}

export function transportFor(socket: RawSocket): Transport {
  if (typeof socket.write === 'function') {
    return {
      write: (packet) => socket.write!(packet),
      onDrain: (callback) => socket.once!('drain', callback),
      close: () => {
        socket.end?.();
        setTimeout(() => socket.destroy?.(), CLOSE_GRACE_MS).unref();
      },
      get closed() {
        return socket.destroyed === true;
      },
      pause: () => socket.pause?.(),
      resume: () => socket.resume?.(),
    };
  }
  // MQTT over WebSocket: `ws` has no 'drain' event, so poll its buffer.
  return {
    write: (packet) => {
      socket.send!(packet);
      return (socket.bufferedAmount ?? 0) < WS_HIGH_WATER;
    },
    onDrain: (callback) => {
      const poll = () => ((socket.bufferedAmount ?? 0) < WS_HIGH_WATER || socket.readyState !== 1 ? callback() : setTimeout(poll, WS_DRAIN_POLL_MS));
      setTimeout(poll, WS_DRAIN_POLL_MS);
    },
    close: () => socket.close?.(),
    get closed() {
      return socket.readyState !== 1;
    },
    // `ws` reads from the TCP socket beneath it.
    pause: () => socket._socket?.pause?.(),
    resume: () => socket._socket?.resume?.(),
  };
}

/**
 * Counts bytes and packets both ways. HarperDB looks up `socket.write` (TCP, TLS) or `ws.send`
 * (WebSocket) at each send, so wrapping the method on the socket object sees every packet it and
 * this component send; each call carries one whole packet.
 */
function meterSocket(socket: RawSocket, counters: Counters): WireMeter {
  const meter: WireMeter = { protocolVersion: 4 };
  const inbound = new FrameCounter();
  const outbound = new FrameCounter();
  const received = (data: Uint8Array) => {
    counters.add('bytesReceived', data.length);
    counters.add('packetsReceived', inbound.push(data));
  };
  const sent = (data: unknown) => {
    if (!(data instanceof Uint8Array)) return;
    if (outbound.boundary && isPublish(data)) {
      counters.add('publishSent');
      counters.add('publishBytesSent', publishPayloadBytes(data, meter.protocolVersion));
    }
    counters.add('bytesSent', data.length);
    counters.add('packetsSent', outbound.push(data));
  };
  const method = typeof socket.write === 'function' ? 'write' : typeof socket.send === 'function' ? 'send' : null;
  if (!method) return meter;
  const original = socket[method]! as (this: RawSocket, data: Buffer, ...rest: unknown[]) => boolean;
  socket[method] = function (this: RawSocket, data: Buffer, ...rest: unknown[]) {
    guarded('byte count', () => sent(data), undefined);
    return original.call(this, data, ...rest);
  } as never;
  socket.on?.(method === 'write' ? 'data' : 'message', (data: Buffer | Buffer[]) => {
    for (const chunk of Array.isArray(data) ? data : [data]) if (chunk instanceof Uint8Array) received(chunk);
  });
  return meter;
}

function missingMethods(session: Partial<HarperSession>): string[] {
  const missing: string[] = SESSION_METHODS.filter((name) => typeof session[name] !== 'function');
  if (typeof session.sessionId !== 'string') missing.push('sessionId');
  return missing;
}

/** Some calls come from socket event handlers, where a throw would be an uncaught exception. */
function guarded<T>(what: string, action: () => T, fallback: T): T {
  try {
    return action();
  } catch (error) {
    log.error(`error handling ${what}`, error);
    return fallback;
  }
}

/**
 * Refuses every CONNECT with "server unavailable" (the component cannot serve, e.g. its
 * configuration is invalid), rather than leaving clients to HarperDB's stock routing.
 */
export function refuseAllClients(reason: string): void {
  const mqtt = harperMqtt();
  mqtt.authorizeClient = (packet) => {
    throw new ConnectRefused(reason, packet.protocolVersion === 5 ? 0x88 : 0x03);
  };
}

export function installHooks(hooks: Hooks): void {
  const mqtt = harperMqtt();
  const { counters } = hooks;

  const previousAuthorize = mqtt.authorizeClient;
  mqtt.authorizeClient = (packet, user) => {
    previousAuthorize?.(packet, user);
    hooks.onConnect(packet, user);
  };

  const meters = new WeakMap<RawSocket, WireMeter>();
  mqtt.events.on('connection', (socket: RawSocket) => {
    counters.add('socketsTotal');
    meters.set(socket, meterSocket(socket, counters));
  });

  mqtt.events.on('connected', (session: HarperSession, socket: RawSocket) => {
    const missing = missingMethods(session);
    if (missing.length > 0) {
      log.error(`HarperDB MQTT session lacks ${missing.join(', ')}; this HarperDB version is not supported. Closing ${session.sessionId}.`);
      transportFor(socket).close();
      return;
    }
    const handler = hooks.onConnected(session.sessionId, session.user, transportFor(socket));
    if (!handler) {
      transportFor(socket).close();
      return;
    }
    const meter = meters.get(socket);
    if (meter) meter.protocolVersion = handler.protocolVersion;
    // HarperDB's own methods stay in use for topics of resources this component does not own.
    const native = {
      addSubscription: session.addSubscription.bind(session),
      removeSubscription: session.removeSubscription.bind(session),
      publish: session.publish.bind(session),
      resume: session.resume.bind(session),
      acknowledge: session.acknowledge.bind(session),
      disconnect: session.disconnect.bind(session),
    };
    // HarperDB 4.7 sets sessionWasPresent for every clean-session-0 CONNECT (its lookup returns a
    // record object even when none is stored), so look at what its durable record really holds.
    const nativeWasPresent = session.sessionWasPresent === true && (session.sessionRecord?.subscriptions?.length ?? 0) > 0;
    const nativeFilters = new Set<string>();
    let nativeUsed = false;
    const useNative = () => {
      if (!nativeUsed) handler.shareIdsWithHarper();
      nativeUsed = true;
    };
    if (nativeWasPresent) useNative();

    session.sessionWasPresent = handler.sessionPresent || nativeWasPresent;
    session.addSubscription = (request, needsAck) => {
      if (!hooks.servedNatively(request.topic, true)) return handler.subscribe(request);
      useNative();
      nativeFilters.add(request.topic);
      return native.addSubscription(request, needsAck);
    };
    session.removeSubscription = (filter) =>
      nativeFilters.delete(filter) ? native.removeSubscription(filter) : guarded('UNSUBSCRIBE', () => handler.unsubscribe(filter), false);
    session.publish = (packet, data) => {
      counters.add('publishReceived');
      counters.add('publishBytesReceived', packet.payload?.length ?? 0);
      return hooks.servedNatively(packet.topic, false) ? native.publish(packet, data) : handler.publish(packet);
    };
    session.resume = async () => {
      await Promise.all([handler.sessionPresent ? handler.resume() : undefined, nativeWasPresent ? native.resume() : undefined]);
    };
    session.acknowledge = (messageId) => {
      if (!guarded('PUBACK', () => handler.acknowledge(messageId), false)) native.acknowledge(messageId);
    };
    session.disconnect = (clientTerminated) => {
      if (session.keepaliveTimer) clearTimeout(session.keepaliveTimer);
      guarded('disconnect', () => handler.close(clientTerminated === true), undefined);
      if (nativeUsed) guarded('disconnect', () => native.disconnect(clientTerminated), undefined);
    };
  });

  // Connections accepted before these hooks existed are served the stock way: make them reconnect.
  for (const session of mqtt.sessions) if (session.socket) transportFor(session.socket).close();
}
