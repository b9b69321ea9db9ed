// Component configuration: defaults, then the `mqttBridge` section of config.yaml, then
// MQTT_BRIDGE_* environment variables. Resolved once at start into a typed, validated object.
import { readFileSync, existsSync } from 'node:fs';
import { parse } from 'yaml';

export interface BridgeConfig {
  /** HarperDB database that holds topic tables and the component's own tables. */
  database: string;
  /** Seconds a message stays in the history table; 0 turns history off. */
  historyTtl: number;
  /** Seconds between $SYS refreshes; 0 turns the updater off. */
  sysInterval: number;
  /** Unacknowledged QoS 1/2 messages in flight per client (MQTT 5 clients may ask for fewer). */
  maxInflight: number;
  /** Messages queued per client before QoS 0 is dropped and QoS 1/2 is re-read from the log. */
  maxQueued: number;
  /** Register each topic table at its topic path (`GET /a/b/c/d`) as well as by table name. */
  restTopicPaths: boolean;
  /**
   * Topic tables per HarperDB database before new ones go to `<database>_topics_2`, `_3`, ...
   * LMDB allows 10,000 named stores per database file, shared with every other table there.
   */
  tablesPerDatabase: number;
}

export const DEFAULTS: Readonly<BridgeConfig> = Object.freeze({
  database: 'data',
  historyTtl: 86_400,
  sysInterval: 10,
  maxInflight: 20,
  maxQueued: 1000,
  restTopicPaths: true,
  tablesPerDatabase: 5000,
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Kind = 'name' | 'duration' | 'positiveInt' | 'boolean';
const KINDS: Record<keyof BridgeConfig, Kind> = {
  database: 'name',
  historyTtl: 'duration',
  sysInterval: 'duration',
  maxInflight: 'positiveInt',
  maxQueued: 'positiveInt',
  restTopicPaths: 'boolean',
  tablesPerDatabase: 'positiveInt',
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from a number or a string like `90`, `30s`, `15m`, `24h`, `7d`. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(value);
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
}

function coerce(key: keyof BridgeConfig, value: unknown, origin: string): string | number | boolean {
  const fail = (expected: string) =>
    new ConfigError(`${origin}: ${key} must be ${expected}, got ${JSON.stringify(value)}`);
  switch (KINDS[key]) {
    case 'name':
      if (typeof value === 'string' && /^[A-Za-z0-9_]+$/.test(value)) return value;
      throw fail('a database name of letters, digits and underscores');
    case 'duration': {
      const seconds = parseDuration(value);
      if (seconds === null) throw fail('a duration in seconds or like "30s", "15m", "24h", "7d" (0 turns it off)');
      return seconds;
    }
    case 'positiveInt': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) return n;
      throw fail('a positive integer');
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw fail('true or false');
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
  for (const key of Object.keys(KINDS) as Array<keyof BridgeConfig>) {
    if (fromFile[key] !== undefined) config[key] = coerce(key, fromFile[key], 'config.yaml mqttBridge');
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') config[key] = coerce(key, fromEnv, envName(key));
  }
  return config as unknown as BridgeConfig;
}

/** The `mqttBridge` section of a config.yaml, or undefined when the file or section is absent. */
export function readConfigSection(configPath: string): unknown {
  if (!existsSync(configPath)) return undefined;
  const document = parse(readFileSync(configPath, 'utf8')) as Record<string, unknown> | null;
  return document?.mqttBridge;
}
