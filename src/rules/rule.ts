// A table rule: every topic its pattern matches is a row of one table, with the pattern's named
// levels (and optionally typed fields of JSON payloads) as indexed columns. Parsed and checked
// here, from config.yaml or the REST API alike. Pure code, no HarperDB.
import { COLUMN_NAME, parsePattern, PatternError, type TopicPattern } from '../topics/patterns.js';

export const COLUMN_TYPES = ['String', 'Int', 'Float', 'Boolean', 'Date'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface PayloadColumn {
  type: ColumnType;
  /** Dotted path of the JSON payload field, e.g. `power.battery`. */
  field: string;
}

export interface TopicRule {
  pattern: TopicPattern;
  table: string;
  database: string;
  columns: Record<string, PayloadColumn>;
}

/** What a rule looks like in config.yaml and over REST. */
export interface RuleDefinition {
  pattern: string;
  table: string;
  database?: string;
  columns?: Record<string, ColumnType | { type: ColumnType; field?: string }>;
}

export class RuleError extends Error {
  override name = 'RuleError';
}

/** Fields every message row has; rule columns must not reuse them. */
export const ROW_FIELDS: ReadonlySet<string> = new Set(['id', 'topic', 'payload', 'format', 'contentType', 'qos', 'retain', 'clientId', 'timestamp', 'data', 'properties']);

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const KNOWN_KEYS = new Set(['pattern', 'table', 'database', 'columns']);

/** `where` names the entry in messages, e.g. `config.yaml mqttBridge.topicRules[2]`. */
export function parseRule(raw: unknown, where: string, defaultDatabase: string): TopicRule {
  const at = (what: string) => new RuleError(`${where}: ${what}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw at('a rule must be a mapping with pattern and table');
  const definition = raw as Record<string, unknown>;
  for (const key of Object.keys(definition)) if (!KNOWN_KEYS.has(key)) throw at(`unknown field "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  let pattern: TopicPattern;
  try {
    pattern = parsePattern(definition.pattern as string);
  } catch (error) {
    if (error instanceof PatternError) throw at(`pattern ${JSON.stringify(definition.pattern)}: ${error.message}`);
    throw error;
  }
  const label = (what: string) => at(`(${pattern.source}) ${what}`);
  const table = definition.table;
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) throw label('table must be a name of letters, digits and _ , starting with a letter');
  if (table === 'mqtt' || table.startsWith('mqtt_') || table === 'sys') throw label(`table "${table}" is reserved (mqtt, mqtt_* and sys are this component's own)`);
  const first = pattern.levels[0]!;
  if (first.kind === 'literal' && first.value === table) {
    throw label(`table "${table}" would take the REST path /${table}/ that serves the topics under ${table}/; name it differently (e.g. ${table}_data)`);
  }
  const database = definition.database ?? defaultDatabase;
  if (typeof database !== 'string' || !/^[A-Za-z0-9_]+$/.test(database)) throw label('database must be a name of letters, digits and underscores');
  for (const name of pattern.names) if (ROW_FIELDS.has(name)) throw label(`level name "${name}" is a field every row has; choose another`);
  const columns: Record<string, PayloadColumn> = {};
  const rawColumns = definition.columns ?? {};
  if (typeof rawColumns !== 'object' || Array.isArray(rawColumns)) throw label('columns must map column names to types');
  for (const [name, spec] of Object.entries(rawColumns as Record<string, unknown>)) {
    if (!COLUMN_NAME.test(name)) throw label(`column "${name}": names are letters, digits and _ , starting with a letter`);
    if (ROW_FIELDS.has(name) || pattern.names.includes(name)) throw label(`column "${name}" is already a row field or a level name`);
    const long = spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>) : { type: spec };
    const type = long.type as ColumnType;
    if (!COLUMN_TYPES.includes(type)) throw label(`column "${name}": type ${JSON.stringify(long.type)} is not one of ${COLUMN_TYPES.join(', ')}`);
    const field = long.field ?? name;
    if (typeof field !== 'string' || field === '' || field.split('.').some((part) => part === '')) throw label(`column "${name}": field must be a JSON field name or dotted path`);
    columns[name] = { type, field };
  }
  return { pattern, table, database, columns };
}

/** The rule as it is written back (REST listings, the persisted copy). */
export function ruleDefinition(rule: TopicRule): RuleDefinition {
  const columns: Record<string, { type: ColumnType; field: string }> = {};
  for (const [name, column] of Object.entries(rule.columns)) columns[name] = { type: column.type, field: column.field };
  return { pattern: rule.pattern.source, table: rule.table, database: rule.database, columns };
}

/**
 * Rules that write into the same table must agree on its columns: a name is either a level or a
 * payload column, with one type.
 */
export function checkSharedTables(rules: readonly TopicRule[]): void {
  const tables = new Map<string, Map<string, string>>();
  for (const rule of rules) {
    const key = `${rule.database}.${rule.table}`;
    let known = tables.get(key);
    if (!known) tables.set(key, (known = new Map()));
    const own = new Map<string, string>([...rule.pattern.names.map((name) => [name, 'level'] as const), ...Object.entries(rule.columns).map(([name, c]) => [name, c.type] as const)]);
    for (const [name, kind] of own) {
      const earlier = known.get(name);
      if (earlier !== undefined && earlier !== kind) {
        throw new RuleError(`rules for table ${key} disagree on "${name}" (${earlier} in one, ${kind} in ${rule.pattern.source})`);
      }
      known.set(name, kind);
    }
  }
}

/** A typed payload column's value from a JSON payload, or null when absent or of another type. */
export function columnValue(column: PayloadColumn, json: unknown): string | number | boolean | Date | null {
  let value: unknown = json;
  for (const part of column.field.split('.')) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as Record<string, unknown>)[part];
  }
  switch (column.type) {
    case 'String':
      return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
    case 'Float': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isFinite(n) ? n : null;
    }
    case 'Int': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof n === 'number' && Number.isInteger(n) ? n : null;
    }
    case 'Boolean':
      return typeof value === 'boolean' ? value : null;
    case 'Date': {
      if (typeof value !== 'string' && typeof value !== 'number') return null;
      const date = new Date(value);
      return Number.isNaN(date.getTime()) ? null : date;
    }
  }
}
