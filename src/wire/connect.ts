// CONNECT and CONNACK: what a CONNECT asks for, whether it may connect, and the CONNACK that
// answers it, with the MQTT 5 properties that tell a client what this broker offers. Pure code.
import { randomBytes } from 'node:crypto';
import { forwardedProperties, type ForwardedProperties, type QoS } from '../messages.js';
import { isSysTopic, topicNameProblem } from '../topics/validate.js';

export interface WillMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: ForwardedProperties;
  /** MQTT 5 Will Delay Interval, seconds [MQTT-3.1.3-9]. */
  delaySeconds?: number;
}

export interface ConnectInfo {
  clientId: string;
  protocolVersion: 3 | 4 | 5;
  /** The broker chose the client id (the client sent none). */
  assignedClientId: boolean;
  /** Start without any stored session state. */
  cleanStart: boolean;
  /** Session state outlives the connection. */
  persistent: boolean;
  /** Seconds a disconnected persistent session is kept; null: forever. */
  sessionExpiry: number | null;
  /** Seconds of silence after which the connection is dropped (0: never), after the broker's cap. */
  keepalive: number;
  /** True when the broker lowered the client's keep alive (announced in CONNACK). */
  keepaliveCapped: boolean;
  will?: WillMessage;
  /** MQTT 5 Receive Maximum: QoS 1/2 messages the client accepts unacknowledged. */
  receiveMaximum?: number;
  /** MQTT 5 Maximum Packet Size the client accepts. */
  maximumPacketSize?: number;
  /** MQTT 5 Topic Alias Maximum: aliases the broker may use towards the client. */
  topicAliasMaximum: number;
  requestResponseInformation: boolean;
  /** MQTT 5: false asks for no reason strings or user properties on most packets [MQTT-3.1.2-29]. */
  requestProblemInformation: boolean;
  username?: string;
}

/** What this broker offers, announced in CONNACK (MQTT 5). */
export interface ServerLimits {
  maxPacketSize: number;
  /** QoS 1/2 PUBLISH packets a client may have unacknowledged towards the broker. */
  receiveMaximum: number;
  topicAliasMaximum: number;
  /** Keep alive the broker accepts at most, in seconds; 0: any. */
  maxKeepalive: number;
}

/** A refused CONNECT: the MQTT 5 reason code (the 3.1.1 return code is derived from it). */
export class ConnectRefused extends Error {
  constructor(
    readonly reasonCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectPacket {
  clientId?: string;
  protocolVersion?: number;
  protocolId?: string;
  clean?: boolean;
  keepalive?: number;
  username?: string;
  password?: Buffer;
  will?: { topic: string; payload?: Buffer; qos?: number; retain?: boolean; properties?: Record<string, unknown> };
  properties?: {
    sessionExpiryInterval?: number;
    receiveMaximum?: number;
    maximumPacketSize?: number;
    topicAliasMaximum?: number;
    requestResponseInformation?: boolean;
    requestProblemInformation?: boolean;
    authenticationMethod?: string;
  };
}

const NEVER_EXPIRES = 0xffffffff;

/** MQTT 3.1.1 CONNACK return code for an MQTT 5 CONNACK reason code [MQTT-3.2.2.3]. */
export function returnCodeFor(reasonCode: number): number {
  switch (reasonCode) {
    case 0:
      return 0;
    case 0x84: // unsupported protocol version
      return 1;
    case 0x85: // client identifier not valid
      return 2;
    case 0x86: // bad user name or password
      return 4;
    case 0x87: // not authorized
    case 0x8c: // bad authentication method
      return 5;
    default: // server unavailable, busy, quota, unspecified: "server unavailable"
      return 3;
  }
}

/** Reads (and checks) a CONNECT; throws ConnectRefused for one that must get a refusing CONNACK. */
export function readConnect(packet: ConnectPacket, limits: ServerLimits): ConnectInfo {
  const protocolVersion = packet.protocolVersion;
  if (protocolVersion !== 3 && protocolVersion !== 4 && protocolVersion !== 5) {
    throw new ConnectRefused(0x84, `protocol version ${protocolVersion} is not supported`);
  }
  const v5 = protocolVersion === 5;
  const cleanStart = packet.clean !== false;
  const properties = v5 ? (packet.properties ?? {}) : {};
  if (properties.authenticationMethod) throw new ConnectRefused(0x8c, 'enhanced authentication is not supported');
  let persistent: boolean;
  let sessionExpiry: number | null;
  if (v5) {
    const interval = properties.sessionExpiryInterval ?? 0;
    persistent = interval > 0;
    sessionExpiry = interval >= NEVER_EXPIRES ? null : interval;
  } else {
    persistent = !cleanStart;
    sessionExpiry = persistent ? null : 0;
  }

  let clientId = packet.clientId ?? '';
  let assignedClientId = false;
  if (clientId === '') {
    // [MQTT-3.1.3-8]: an empty id with a persistent session is refused in 3.1.1; MQTT 3.1 needs an id.
    if ((!v5 && persistent) || protocolVersion === 3) throw new ConnectRefused(0x85, 'a client id is required');
    clientId = 'auto-' + randomBytes(9).toString('base64url');
    assignedClientId = true;
  }

  const requested = packet.keepalive ?? 0;
  const capped = limits.maxKeepalive > 0 && (requested === 0 || requested > limits.maxKeepalive);
  const info: ConnectInfo = {
    clientId,
    protocolVersion,
    assignedClientId,
    cleanStart,
    persistent,
    sessionExpiry,
    keepalive: capped ? limits.maxKeepalive : requested,
    keepaliveCapped: capped && v5,
    topicAliasMaximum: properties.topicAliasMaximum ?? 0,
    requestResponseInformation: properties.requestResponseInformation === true,
    requestProblemInformation: properties.requestProblemInformation !== false,
  };
  if (properties.receiveMaximum) info.receiveMaximum = properties.receiveMaximum;
  if (properties.maximumPacketSize) info.maximumPacketSize = properties.maximumPacketSize;
  if (packet.username !== undefined) info.username = packet.username;

  const will = packet.will;
  if (will) {
    const problem = topicNameProblem(will.topic) ?? (isSysTopic(will.topic) ? 'will topic is in $SYS' : null);
    if (problem) throw new ConnectRefused(v5 ? 0x90 : 0x80, `invalid will: ${problem}`);
    info.will = {
      topic: will.topic,
      payload: will.payload ?? Buffer.alloc(0),
      qos: Math.min(2, Math.max(0, will.qos ?? 0)) as QoS,
      retain: will.retain === true,
    };
    const willProperties = forwardedProperties(will.properties);
    if (willProperties) info.will.properties = willProperties;
    const delay = (will.properties?.willDelayInterval as number | undefined) ?? 0;
    if (v5 && delay > 0) info.will.delaySeconds = delay;
  }
  return info;
}

/** The CONNACK accepting `info`, as mqtt-packet generates it. */
export function connackFor(info: ConnectInfo, sessionPresent: boolean, limits: ServerLimits): Record<string, unknown> {
  if (info.protocolVersion !== 5) return { cmd: 'connack', sessionPresent, returnCode: 0 };
  const properties: Record<string, unknown> = {
    receiveMaximum: limits.receiveMaximum,
    maximumPacketSize: limits.maxPacketSize,
    topicAliasMaximum: limits.topicAliasMaximum,
    retainAvailable: true,
    wildcardSubscriptionAvailable: true,
    subscriptionIdentifiersAvailable: true,
    sharedSubscriptionAvailable: true,
  };
  if (info.assignedClientId) properties.assignedClientIdentifier = info.clientId;
  if (info.keepaliveCapped) properties.serverKeepAlive = info.keepalive;
  if (info.requestResponseInformation) properties.responseInformation = responseTopicBase(info.clientId);
  return { cmd: 'connack', sessionPresent, reasonCode: 0, properties };
}

/** The CONNACK refusing a CONNECT of `protocolVersion` with an MQTT 5 reason code. */
export function refusingConnack(protocolVersion: number, reasonCode: number, reason: string, problemInformation = true): Record<string, unknown> {
  if (protocolVersion !== 5) return { cmd: 'connack', sessionPresent: false, returnCode: returnCodeFor(reasonCode) };
  const packet: Record<string, unknown> = { cmd: 'connack', sessionPresent: false, reasonCode };
  if (problemInformation) packet.properties = { reasonString: reason };
  return packet;
}

/** MQTT 5 Response Information: the topic prefix a client may use for responses addressed to it. */
export function responseTopicBase(clientId: string): string {
  return `responses/${clientId}/`;
}
