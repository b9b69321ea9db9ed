// A remote broker and its rules, as config.yaml's `bridges:` list or the REST API gives it, checked
// field by field (pure: files are checked through the `fileExists` it is handed). A bad entry is
// refused with one message naming the bridge and the field; the other bridges are not affected.
import { topicFilterProblem } from '../topics/validate.js';
import { templateProblem } from './template.js';

export type BridgeQoS = 0 | 1 | 2;

export interface OutboundRule {
  /** Local topic filter, e.g. `devices/#`. */
  filter: string;
  /** Remote topic, e.g. `fwd/${topic}`. */
  remoteTopic: string;
  stripPrefix?: string;
  qos: BridgeQoS;
  /** `as-published` keeps the local retain flag; true/false sets it. */
  retain: 'as-published' | boolean;
}

export interface InboundRule {
  /** Remote topic filter. */
  filter: string;
  /** Local topic, e.g. `plant/${topic}`. */
  localTopic: string;
  stripPrefix?: string;
  qos: BridgeQoS;
}

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized: boolean;
}

export interface BridgeSpec {
  name: string;
  url: string;
  /** MQTT protocol level: 4 (3.1.1) or 5. */
  protocol: 4 | 5;
  clientId: string;
  username?: string;
  password?: string;
  tls?: TlsFiles;
  /** Seconds. */
  keepalive: number;
  /** Clean session / clean start. Off by default: the remote keeps QoS 1/2 state across reconnects. */
  clean: boolean;
  /** MQTT 5 session expiry interval, seconds. */
  sessionExpiry: number;
  /** QoS 1/2 messages in flight to the remote (lowered to the remote's Receive Maximum). */
  inflight: number;
  /** Attempts before a refused message is dead-lettered. */
  maxAttempts: number;
  deadLetterRetainDays: number;
  /** Backlog cap: matched QoS 1/2 messages not yet acknowledged by the remote (0: no cap). */
  maxBacklogMessages: number;
  /** Backlog cap in payload bytes (0: no cap). */
  maxBacklogBytes: number;
  /** At the cap: `warn` keeps accepting (and warns), `refuse` refuses local publishes to the outbound rules' topics (0x97). */
  onBacklogFull: BacklogPolicy;
  outbound: OutboundRule[];
  inbound: InboundRule[];
}

export type BacklogPolicy = 'warn' | 'refuse';

export class BridgeSpecError extends Error {
  override name = 'BridgeSpecError';
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const URL_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'];
const TOP_FIELDS = ['name', 'url', 'protocol', 'clientId', 'username', 'password', 'tls', 'keepalive', 'clean', 'sessionExpiry', 'inflight', 'maxAttempts', 'deadLetterRetainDays', 'maxBacklogMessages', 'maxBacklogBytes', 'onBacklogFull', 'outbound', 'inbound'];
const TLS_FIELDS = ['ca', 'cert', 'key', 'rejectUnauthorized'];
const OUT_FIELDS = ['filter', 'remoteTopic', 'stripPrefix', 'qos', 'retain'];
const IN_FIELDS = ['filter', 'localTopic', 'stripPrefix', 'qos'];

export const SPEC_DEFAULTS = { protocol: 5, keepalive: 60, clean: false, sessionExpiry: 7 * 86_400, inflight: 20, maxAttempts: 5, deadLetterRetainDays: 30, maxBacklogMessages: 0, maxBacklogBytes: 0, onBacklogFull: 'warn' } as const;

type Fields = Record<string, unknown>;

function mapping(value: unknown, where: string): Fields {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BridgeSpecError(`${where} must be a mapping`);
  return value as Fields;
}

function onlyKnown(fields: Fields, known: string[], where: string): void {
  for (const key of Object.keys(fields)) if (!known.includes(key)) throw new BridgeSpecError(`${where}: unknown field "${key}" (known: ${known.join(', ')})`);
}

function integer(value: unknown, fallback: number, where: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new BridgeSpecError(`${where} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  throw new BridgeSpecError(`${where} must be a string`);
}

function filter(value: unknown, where: string): string {
  const problem = typeof value === 'string' ? topicFilterProblem(value) : 'must be a topic filter string';
  if (problem) throw new BridgeSpecError(`${where}: ${problem}`);
  return value as string;
}

function template(value: unknown, where: string): string {
  const text = value === undefined ? '${topic}' : value;
  const problem = templateProblem(text as string);
  if (problem) throw new BridgeSpecError(`${where} ${problem}`);
  return text as string;
}

function qos(value: unknown, where: string): BridgeQoS {
  return integer(value, 1, where, 0, 2) as BridgeQoS;
}

function protocol(value: unknown, where: string): 4 | 5 {
  if (value === undefined) return SPEC_DEFAULTS.protocol;
  if (value === 5 || value === '5' || value === '5.0') return 5;
  if (value === 4 || value === '3.1.1' || value === 311) return 4;
  throw new BridgeSpecError(`${where} must be 5 or "3.1.1", got ${JSON.stringify(value)}`);
}

/** A backlog cap: a whole number, 0 (the default) for none. */
function cap(value: unknown, where: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new BridgeSpecError(`${where} must be a whole number, 0 for no cap, got ${JSON.stringify(value)}`);
}

function backlogPolicy(value: unknown, where: string): BacklogPolicy {
  if (value === undefined) return SPEC_DEFAULTS.onBacklogFull;
  if (value === 'warn' || value === 'refuse') return value;
  throw new BridgeSpecError(`${where} must be "warn" or "refuse", got ${JSON.stringify(value)}`);
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new BridgeSpecError(`${where} must be a list`);
  return value;
}

function readOutbound(raw: unknown, where: string): OutboundRule {
  const fields = mapping(raw, where);
  onlyKnown(fields, OUT_FIELDS, where);
  const retain = fields.retain ?? 'as-published';
  if (retain !== 'as-published' && typeof retain !== 'boolean') throw new BridgeSpecError(`${where}.retain must be "as-published", true or false`);
  const rule: OutboundRule = { filter: filter(fields.filter, `${where}.filter`), remoteTopic: template(fields.remoteTopic, `${where}.remoteTopic`), qos: qos(fields.qos, `${where}.qos`), retain };
  const strip = optionalString(fields.stripPrefix, `${where}.stripPrefix`);
  if (strip) rule.stripPrefix = strip;
  return rule;
}

function readInbound(raw: unknown, where: string): InboundRule {
  const fields = mapping(raw, where);
  onlyKnown(fields, IN_FIELDS, where);
  const rule: InboundRule = { filter: filter(fields.filter, `${where}.filter`), localTopic: template(fields.localTopic, `${where}.localTopic`), qos: qos(fields.qos, `${where}.qos`) };
  const strip = optionalString(fields.stripPrefix, `${where}.stripPrefix`);
  if (strip) rule.stripPrefix = strip;
  return rule;
}

function readTls(raw: unknown, where: string, fileExists: (path: string) => boolean): TlsFiles | undefined {
  if (raw === undefined || raw === null) return undefined;
  const fields = mapping(raw, where);
  onlyKnown(fields, TLS_FIELDS, where);
  const tls: TlsFiles = { rejectUnauthorized: fields.rejectUnauthorized !== false };
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = optionalString(fields[key], `${where}.${key}`);
    if (path === undefined) continue;
    if (!fileExists(path)) throw new BridgeSpecError(`${where}.${key}: file ${path} does not exist or cannot be read`);
    tls[key] = path;
  }
  if (!!tls.cert !== !!tls.key) throw new BridgeSpecError(`${where}: cert and key go together`);
  return tls;
}

/** The label of an entry in messages: its name when it has a usable one, else its place in the list. */
export function entryLabel(raw: unknown, index?: number): string {
  const name = raw && typeof raw === 'object' ? (raw as Fields).name : undefined;
  return typeof name === 'string' && NAME.test(name) ? `bridge "${name}"` : index === undefined ? 'bridge' : `bridges[${index}]`;
}

export function readBridgeSpec(raw: unknown, fileExists: (path: string) => boolean, label = entryLabel(raw)): BridgeSpec {
  const fields = mapping(raw, label);
  onlyKnown(fields, TOP_FIELDS, label);
  if (typeof fields.name !== 'string' || !NAME.test(fields.name)) throw new BridgeSpecError(`${label}: name must be 1 to 64 letters, digits, _ or -`);
  const name = fields.name;
  let url: URL;
  try {
    url = new URL(String(fields.url));
  } catch {
    throw new BridgeSpecError(`${label}: url ${JSON.stringify(fields.url)} is not a URL like mqtt://host:1883`);
  }
  if (!URL_SCHEMES.includes(url.protocol)) throw new BridgeSpecError(`${label}: url must start with mqtt://, mqtts://, ws:// or wss://, got ${url.protocol}//`);
  if (url.username || url.password) throw new BridgeSpecError(`${label}: put credentials in username/password, not in the url`);
  const spec: BridgeSpec = {
    name,
    url: url.toString(),
    protocol: protocol(fields.protocol, `${label}.protocol`),
    clientId: optionalString(fields.clientId, `${label}.clientId`) ?? `harper-bridge-${name}`,
    keepalive: integer(fields.keepalive, SPEC_DEFAULTS.keepalive, `${label}.keepalive`, 0, 65535),
    clean: fields.clean === undefined ? SPEC_DEFAULTS.clean : fields.clean === true,
    sessionExpiry: integer(fields.sessionExpiry, SPEC_DEFAULTS.sessionExpiry, `${label}.sessionExpiry`, 0, 0xffffffff),
    inflight: integer(fields.inflight, SPEC_DEFAULTS.inflight, `${label}.inflight`, 1, 65535),
    maxAttempts: integer(fields.maxAttempts, SPEC_DEFAULTS.maxAttempts, `${label}.maxAttempts`, 1, 100),
    deadLetterRetainDays: integer(fields.deadLetterRetainDays, SPEC_DEFAULTS.deadLetterRetainDays, `${label}.deadLetterRetainDays`, 1, 3650),
    maxBacklogMessages: cap(fields.maxBacklogMessages, `${label}.maxBacklogMessages`),
    maxBacklogBytes: cap(fields.maxBacklogBytes, `${label}.maxBacklogBytes`),
    onBacklogFull: backlogPolicy(fields.onBacklogFull, `${label}.onBacklogFull`),
    outbound: list(fields.outbound, `${label}.outbound`).map((rule, i) => readOutbound(rule, `${label}.outbound[${i}]`)),
    inbound: list(fields.inbound, `${label}.inbound`).map((rule, i) => readInbound(rule, `${label}.inbound[${i}]`)),
  };
  if (fields.clean !== undefined && typeof fields.clean !== 'boolean') throw new BridgeSpecError(`${label}.clean must be true or false`);
  const username = optionalString(fields.username, `${label}.username`);
  const password = optionalString(fields.password, `${label}.password`);
  if (username !== undefined) spec.username = username;
  if (password !== undefined) spec.password = password;
  const tls = readTls(fields.tls, `${label}.tls`, fileExists);
  if (tls) spec.tls = tls;
  if (tls && (url.protocol === 'mqtt:' || url.protocol === 'ws:')) throw new BridgeSpecError(`${label}: tls needs an mqtts:// or wss:// url`);
  if (spec.outbound.length === 0 && spec.inbound.length === 0) throw new BridgeSpecError(`${label}: has no outbound and no inbound rules`);
  return spec;
}

export interface ReadSpecs {
  specs: BridgeSpec[];
  /** One message per refused entry. */
  problems: string[];
}

/** Every valid entry of a `bridges:` list; each bad one (or a repeated name) gives one problem. */
export function readBridgeList(raw: unknown, fileExists: (path: string) => boolean): ReadSpecs {
  const result: ReadSpecs = { specs: [], problems: [] };
  if (raw === undefined || raw === null) return result;
  if (!Array.isArray(raw)) return { specs: [], problems: ['bridges must be a list of remote brokers'] };
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    try {
      const spec = readBridgeSpec(entry, fileExists, entryLabel(entry, i));
      if (seen.has(spec.name)) throw new BridgeSpecError(`bridge "${spec.name}": the name is used twice`);
      seen.add(spec.name);
      result.specs.push(spec);
    } catch (error) {
      if (!(error instanceof BridgeSpecError)) throw error;
      result.problems.push(error.message);
    }
  });
  return result;
}

/** What read endpoints show: never the password, and TLS as file names only. */
export function publicSpec(spec: BridgeSpec): Omit<BridgeSpec, 'password'> & { hasPassword: boolean } {
  const { password, ...rest } = spec;
  return { ...rest, hasPassword: password !== undefined };
}
