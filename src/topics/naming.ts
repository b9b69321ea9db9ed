// Topic <-> table mapping. `a/b/c/d` is row `d` of the table that holds prefix `a/b/c/`.
// A prefix is the exact topic text up to and including its last '/', so `temp` (prefix ''),
// `/temp` (prefix '/') and `a//b` (prefix 'a//') all stay distinct.
import { createHash } from 'node:crypto';

export interface TopicAddress {
  /** Topic text up to and including the last '/', '' for single-level topics. */
  prefix: string;
  /** The last topic level: the row id inside the prefix's table. */
  row: string;
}

export function splitTopic(topic: string): TopicAddress {
  const slash = topic.lastIndexOf('/');
  return { prefix: topic.slice(0, slash + 1), row: topic.slice(slash + 1) };
}

/** Levels of a prefix: '' -> [], 'a/b/' -> ['a', 'b'], '/' -> ['']. */
export function prefixLevels(prefix: string): string[] {
  return prefix === '' ? [] : prefix.slice(0, -1).split('/');
}

/**
 * The prefix whose table a subscription needs: a plain topic's own table, or for a wildcard
 * filter the table of the literal levels before the first wildcard. Null when the filter starts
 * with a wildcard (nothing to create).
 */
export function prefixForFilter(filter: string): string | null {
  const levels = filter.split('/');
  const firstWildcard = levels.findIndex((level) => level === '+' || level === '#');
  if (firstWildcard === -1) return splitTopic(filter).prefix;
  if (firstWildcard === 0) return null;
  return levels.slice(0, firstWildcard).join('/') + '/';
}

/** The literal levels of a filter before its first wildcard: `a/b/#` -> `a/b`, `#` -> ''. */
export function literalPart(filter: string): string {
  const plus = filter.indexOf('+');
  const hash = filter.indexOf('#');
  const first = plus === -1 ? hash : hash === -1 ? plus : Math.min(plus, hash);
  if (first === -1) return filter;
  return filter.slice(0, Math.max(0, filter.lastIndexOf('/', first - 1)));
}

/** Names of the component's own tables; a topic prefix never maps onto one of them. */
export const RESERVED_TABLE_NAMES: ReadonlySet<string> = new Set([
  'mqtt_topics',
  'mqtt_history',
  'mqtt_history_batches',
  'mqtt_sessions',
  'mqtt_bus',
  'mqtt_wills',
  'mqtt_console_clients',
  'mqtt_log',
  'mqtt_topic_roots',
  'mqtt_topic_rules',
  'mqtt_credentials',
  'mqtt_sources',
  'mqtt_source_sent',
  'mqtt_source_positions',
  'mqtt_bridges',
  'mqtt_bridge_state',
  'mqtt_bridge_retries',
  'mqtt_bridge_dead_letters',
]);

const CANONICAL_LEVEL = /^[a-z0-9]+$/;
const MAX_CANONICAL_NAME = 63;
const MAX_HASHED_BODY = 40;
export const DEFAULT_HASH_CHARS = 10;

/**
 * Table name for a prefix. Lower-case alphanumeric levels give the readable name
 * (`a/b/c/` -> `mqtt_a_b_c`, `` -> `mqtt`); anything else (upper case, '-', '_', empty levels,
 * over-long or reserved names) gets a sanitized body plus '__' and a hash of the exact prefix.
 * Readable names never contain '__', so the two forms cannot collide, and two prefixes that
 * sanitize alike (`A-B/`, `a_b/`) differ by their hash.
 */
export function tableNameFor(prefix: string, hashChars = DEFAULT_HASH_CHARS): string {
  const levels = prefixLevels(prefix);
  if (levels.every((level) => CANONICAL_LEVEL.test(level))) {
    const name = levels.length === 0 ? 'mqtt' : `mqtt_${levels.join('_')}`;
    if (name.length <= MAX_CANONICAL_NAME && !RESERVED_TABLE_NAMES.has(name)) return name;
  }
  const body = levels
    .join('_')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_HASHED_BODY)
    .replace(/_+$/, '');
  const hash = createHash('sha256').update(prefix, 'utf8').digest('hex').slice(0, hashChars);
  return `mqtt_${body}__${hash}`;
}

const URL_SAFE_LEVEL = /^[A-Za-z0-9_~-]+$/;

/**
 * The REST/MQTT resource path for a prefix's table (`a/b/c/` -> `a/b/c`), or null when HarperDB's
 * path routing could not represent it distinctly (root, empty levels, dots or other URL-special
 * characters, or a lone one-character level, which HarperDB 4.7's path matcher never tries); such
 * tables are still reachable by table name.
 */
export function resourcePathFor(prefix: string): string | null {
  const levels = prefixLevels(prefix);
  if (levels.length === 0 || (levels.length === 1 && levels[0]!.length === 1)) return null;
  if (!levels.every((level) => URL_SAFE_LEVEL.test(level))) return null;
  return levels.join('/');
}

/** HarperDB refuses primary keys over 1,978 bytes; stay clear of it (the key is encoded with a type byte). */
export const MAX_KEY_BYTES = 1900;

/**
 * The row key for `id` (a last topic level, or a whole topic in a rule table): `id` itself, or for
 * ids too long to be a HarperDB key, `#` and the SHA-256 of the id. `#` never occurs in a topic
 * name, so the two kinds cannot collide; the row keeps the full topic in its `topic` field.
 */
export function rowKey(id: string): string {
  if (id.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(id, 'utf8') <= MAX_KEY_BYTES) return id;
  return '#' + createHash('sha256').update(id, 'utf8').digest('hex');
}
