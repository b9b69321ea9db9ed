// Component configuration: defaults, then the `mqttBridge` section of config.yaml, then
// MQTT_BRIDGE_* environment variables. Resolved once at start into a typed, validated object.
import { readFileSync, existsSync } from 'node:fs';
import { AccessRuleError, parseAccessRule, type AccessRule } from './access/accessRules.js';
import { parse } from 'yaml';
import { checkSharedTables, parseRule, RuleError, type TopicRule } from './rules/rule.js';
import { parseSourceList, type ParsedSources } from './sources/definition.js';

export interface BridgeConfig {
  /** MQTT over TCP; 0: none. */
  port: number;
  /** MQTT over TLS, with HarperDB's certificates; 0: none. */
  securePort: number;
  /** MQTT over WebSocket (subprotocol `mqtt`) on HarperDB's HTTP port. */
  webSocket: boolean;
  /** The largest packet a client may send, in bytes (announced in CONNACK). */
  maxPacketSize: number;
  /** QoS 1/2 messages a client may send without waiting for their acknowledgement (announced in CONNACK). */
  receiveMaximum: number;
  /** Topic aliases a client may set (announced in CONNACK); 0: none. */
  topicAliasMaximum: number;
  /** The largest keep alive accepted, in seconds (longer ones, and 0, are lowered to it); 0: any. */
  maxKeepalive: number;
  /** HarperDB database that holds topic tables and the component's own tables. */
  database: string;
  /** Seconds a message stays in the history table; 0 turns history off. */
  historyTtl: number;
  /** Seconds between $SYS refreshes; 0 turns the updater off. */
  sysInterval: number;
  /** Seconds the message log keeps QoS 1/2 messages for clients that are away or behind. */
  messageLogTtl: number;
  /** Unacknowledged QoS 1/2 messages in flight per client (MQTT 5 clients may ask for fewer). */
  maxInflight: number;
  /** Messages queued per client before QoS 0 is dropped and QoS 1/2 is re-read from the log. */
  maxQueued: number;
  /** Payload bytes queued per client, whichever of the two limits comes first. */
  maxQueuedBytes: number;
  /** Register each topic table at its topic path (`GET /a/b/c/d`) as well as by table name. */
  restTopicPaths: boolean;
  /**
   * Topic tables per HarperDB database before new ones go to `<database>_topics_2`, `_3`, ...
   * LMDB allows 10,000 named stores per database file, shared with every other table there.
   */
  tablesPerDatabase: number;
  /** Table rules: topics matching a pattern share one table (see docs/topics-and-tables.md). */
  topicRules: TopicRule[];
  /** `allow|deny read|write|readwrite <filter>` with %u/%c; see docs/security.md. */
  accessRules: AccessRule[];
  /** New topic tables one client may create per second, on average... */
  tableCreationRate: number;
  /** ...and at once. */
  tableCreationBurst: number;
  /** Topic tables the whole broker may have; 0: no limit. */
  maxTopicTables: number;
  /** Warn when this many topic tables sit side by side under one parent level; 0: never. */
  fanOutWarning: number;
  /** The largest HTTP ingest request body, in bytes. */
  ingestMaxBytes: number;
  /** Messages one HTTP ingest request may carry. */
  ingestMaxBatch: number;
  /** HTTP ingest messages per second per user (each worker thread); 0: no limit. */
  ingestRateLimit: number;
  /** GET /metrics without credentials (a Prometheus on a trusted network); otherwise super users only. */
  metricsAnonymous: boolean;
  /** Tables whose changes are published (docs/sources.md); a bad entry is refused on its own. */
  sources: ParsedSources;
  /** Remote brokers to bridge to, each checked on its own when bridges start (src/bridges/spec.ts). */
  bridges: unknown[];
}

export const DEFAULTS: Readonly<BridgeConfig> = Object.freeze({
  port: 1883,
  securePort: 8883,
  webSocket: true,
  maxPacketSize: 1 << 20,
  receiveMaximum: 100,
  topicAliasMaximum: 10,
  maxKeepalive: 0,
  database: 'data',
  historyTtl: 86_400,
  sysInterval: 10,
  messageLogTtl: 3 * 86_400,
  maxInflight: 100,
  maxQueued: 1000,
  maxQueuedBytes: 16 << 20,
  restTopicPaths: true,
  tablesPerDatabase: 5000,
  topicRules: [],
  accessRules: [],
  tableCreationRate: 10,
  tableCreationBurst: 100,
  maxTopicTables: 10_000,
  fanOutWarning: 1000,
  ingestMaxBytes: 1 << 20,
  ingestMaxBatch: 1000,
  ingestRateLimit: 0,
  metricsAnonymous: false,
  sources: { sources: [], refused: [] },
  bridges: [],
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Kind = 'list' | 'name' | 'duration' | 'positiveInt' | 'count' | 'rate' | 'boolean' | 'rules' | 'accessRules' | 'port' | 'bytes' | 'sources';
const KINDS: Record<keyof BridgeConfig, Kind> = {
  port: 'port',
  securePort: 'port',
  webSocket: 'boolean',
  maxPacketSize: 'bytes',
  receiveMaximum: 'positiveInt',
  topicAliasMaximum: 'count',
  maxKeepalive: 'count',
  database: 'name',
  historyTtl: 'duration',
  sysInterval: 'duration',
  messageLogTtl: 'duration',
  maxInflight: 'positiveInt',
  maxQueued: 'positiveInt',
  maxQueuedBytes: 'bytes',
  restTopicPaths: 'boolean',
  tablesPerDatabase: 'positiveInt',
  topicRules: 'rules',
  accessRules: 'accessRules',
  tableCreationRate: 'rate',
  tableCreationBurst: 'positiveInt',
  maxTopicTables: 'count',
  fanOutWarning: 'count',
  ingestMaxBytes: 'bytes',
  ingestMaxBatch: 'positiveInt',
  ingestRateLimit: 'count',
  metricsAnonymous: 'boolean',
  sources: 'sources',
  bridges: 'list',
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** The largest packet MQTT can frame: a Remaining Length of 268,435,455 bytes [MQTT-2.2.3]. */
const MAX_PACKET_BYTES = 268_435_460;
const UNIT_BYTES: Record<string, number> = { '': 1, b: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2 };

/** Bytes from a number or a string like `1048576`, `512KiB`, `16MiB`. */
export function parseBytes(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = match ? UNIT_BYTES[match[2]!.toLowerCase()] : undefined;
  return unit === undefined ? null : Math.round(Number(match![1]) * unit);
}

/** Seconds from a number or a string like `90`, `30s`, `15m`, `24h`, `7d`. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(value);
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
}

function coerce(key: keyof BridgeConfig, value: unknown, origin: string, database: string): unknown {
  const fail = (expected: string) =>
    new ConfigError(`${origin}: ${key} must be ${expected}, got ${JSON.stringify(value)}`);
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  switch (KINDS[key]) {
    case 'name':
      if (typeof value === 'string' && /^[A-Za-z0-9_]+$/.test(value)) return value;
      throw fail('a database name of letters, digits and underscores');
    case 'duration': {
      const seconds = parseDuration(value);
      if (seconds === null) throw fail('a duration in seconds or like "30s", "15m", "24h", "7d" (0 turns it off)');
      return seconds;
    }
    case 'positiveInt':
      if (typeof number === 'number' && Number.isInteger(number) && number > 0) return number;
      throw fail('a positive integer');
    case 'count':
      if (typeof number === 'number' && Number.isInteger(number) && number >= 0) return number;
      throw fail('a whole number (0 turns it off)');
    case 'rate':
      if (typeof number === 'number' && Number.isFinite(number) && number > 0) return number;
      throw fail('a positive number (per second)');
    case 'port':
      if (typeof number === 'number' && Number.isInteger(number) && number >= 0 && number <= 65535) return number;
      throw fail('a TCP port number (0 turns it off)');
    case 'bytes': {
      const bytes = parseBytes(value);
      if (bytes !== null && bytes >= 64 && bytes <= MAX_PACKET_BYTES) return bytes;
      throw fail(`a size from 64 bytes to 256MiB, in bytes or like "512KiB", "16MiB"`);
    }
    case 'list': {
      // Only the shape: a bad entry must not stop the others, so entries are checked one by one later.
      const list = typeof value === 'string' ? parseYamlText(value, origin, key) : value;
      if (list == null) return [];
      if (!Array.isArray(list)) throw fail('a list');
      return list;
    }
    case 'rules':
      return parseRules(typeof value === 'string' ? parseYamlText(value, origin, key) : value, origin, database);
    case 'accessRules': {
      const list = typeof value === 'string' ? parseYamlText(value, origin, key) : value;
      if (list == null) return [];
      if (!Array.isArray(list)) throw fail('a list of rules like "deny read test/nosubscribe"');
      try {
        return list.map((rule, i) => parseAccessRule(rule, `${origin}: accessRules[${i}]`));
      } catch (error) {
        throw error instanceof AccessRuleError ? new ConfigError(error.message) : error;
      }
    }
    case 'sources': {
      const list = typeof value === 'string' ? parseYamlText(value, origin, key) : value;
      if (list == null) return { sources: [], refused: [] };
      if (!Array.isArray(list)) throw fail('a list of sources (table, topic, ...; docs/sources.md)');
      // Each entry on its own: a bad one is refused (and logged), the others run.
      return parseSourceList(list, `${origin}: sources`, database);
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw fail('true or false');
  }
}

function parseYamlText(text: string, origin: string, key: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    throw new ConfigError(`${origin}: ${key} must be YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}

function parseRules(value: unknown, origin: string, database: string): TopicRule[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw new ConfigError(`${origin}: topicRules must be a list of rules (pattern, table, columns)`);
  try {
    const rules = value.map((raw, i) => parseRule(raw, `${origin}: topicRules[${i}]`, database));
    checkSharedTables(rules);
    return rules;
  } catch (error) {
    if (error instanceof RuleError) throw new ConfigError(error.message.startsWith(origin) ? error.message : `${origin}: ${error.message}`);
    throw error;
  }
}

/** MQTT_BRIDGE_HISTORY_TTL <-> historyTtl */
export function envName(key: keyof BridgeConfig): string {
  return 'MQTT_BRIDGE_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export function resolveConfig(section: unknown, env: NodeJS.ProcessEnv): BridgeConfig {
  if (section != null && (typeof section !== 'object' || Array.isArray(section))) {
    throw new ConfigError('config.yaml: mqttBridge must be a mapping of options');
  }
  const fromFile = (section ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(fromFile)) {
    if (!(key in KINDS)) {
      throw new ConfigError(`config.yaml: unknown mqttBridge option "${key}" (known: ${Object.keys(KINDS).join(', ')})`);
    }
  }
  const config: Record<string, unknown> = { ...DEFAULTS };
  // Rules default to the configured database, so it is resolved first (KINDS lists it first).
  for (const key of Object.keys(KINDS) as Array<keyof BridgeConfig>) {
    const database = config.database as string;
    if (fromFile[key] !== undefined) config[key] = coerce(key, fromFile[key], 'config.yaml mqttBridge', database);
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') config[key] = coerce(key, fromEnv, envName(key), database);
  }
  return config as unknown as BridgeConfig;
}

/** The `mqttBridge` section of a config.yaml, or undefined when the file or section is absent. */
export function readConfigSection(configPath: string): unknown {
  if (!existsSync(configPath)) return undefined;
  const document = parse(readFileSync(configPath, 'utf8')) as Record<string, unknown> | null;
  return document?.mqttBridge;
}

const LISTENER_KEYS = ['port', 'securePort', 'webSocket', 'maxPacketSize'] as const;
export type ListenerConfig = Pick<BridgeConfig, (typeof LISTENER_KEYS)[number]>;

/**
 * Only the listener options, each from its own setting, or its default if that setting is bad:
 * a component whose configuration is invalid still listens where it was told, to refuse clients
 * with a reason rather than leave the port closed.
 */
export function resolveListeners(section: unknown, env: NodeJS.ProcessEnv): ListenerConfig {
  const fromFile = section && typeof section === 'object' ? (section as Record<string, unknown>) : {};
  const listeners: Record<string, unknown> = {};
  for (const key of LISTENER_KEYS) {
    try {
      const own = fromFile[key] === undefined ? {} : { [key]: fromFile[key] };
      listeners[key] = resolveConfig(own, { [envName(key)]: env[envName(key)] })[key];
    } catch {
      listeners[key] = DEFAULTS[key];
    }
  }
  return listeners as ListenerConfig;
}
