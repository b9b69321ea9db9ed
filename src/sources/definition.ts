// A source: which table's changes become which MQTT messages. Parsed from config.yaml `sources:`
// or a REST request into a checked definition; a bad entry gives a SourceError that names it.
// Pure code, no HarperDB.
import type { QoS } from '../messages.js';
import { parseFields, MappingError, type FieldMapping } from './mapping.js';
import { parseFilter, FilterError, type RowPredicate } from './filter.js';
import { parseTemplate, TemplateError, TEMPLATE_NAMES, type TopicTemplate } from './template.js';

export type Operation = 'insert' | 'update' | 'delete';
export const OPERATIONS: readonly Operation[] = ['insert', 'update', 'delete'];
export type Mode = 'event' | 'batch';

/** A source as written (config.yaml, REST body, the `mqtt_sources` table): JSON. */
export type SourceSpec = Record<string, unknown>;

export interface SourceDefinition {
  name: string;
  database: string;
  table: string;
  operations: ReadonlySet<Operation>;
  topic: TopicTemplate;
  fields: FieldMapping | null;
  filter: RowPredicate | null;
  qos: QoS;
  retain: boolean;
  mode: Mode;
  /** Where a source with no stored position starts: 'now' (when it is added), or a time in ms (backfill). */
  from: 'now' | number;
  /** Keep a tracking row per source row: its last published change (seed 002's MqttSentRecords). */
  track: boolean;
  /** The spec it was parsed from, for listings. */
  spec: SourceSpec;
}

export class SourceError extends Error {}

const KEYS = ['name', 'database', 'table', 'operations', 'topic', 'fields', 'filter', 'qos', 'retain', 'mode', 'from', 'track'];
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const IDENTIFIER = /^[A-Za-z0-9_]+$/;

/** `where` names the entry in messages: `config.yaml sources[2]`, `POST /mqtt_sources/`. */
export function parseSource(raw: unknown, where: string, defaultDatabase: string): SourceDefinition {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SourceError(`${where}: a source must be a mapping (table, topic, ...)`);
  const spec = raw as SourceSpec;
  const label = typeof spec.name === 'string' ? `${where} (${spec.name})` : typeof spec.table === 'string' ? `${where} (${spec.table})` : where;
  const fail = (message: string) => new SourceError(`${label}: ${message}`);
  const unknown = Object.keys(spec).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) throw fail(`unknown option "${unknown[0]}" (known: ${KEYS.join(', ')})`);
  const table = spec.table;
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) throw fail('table must be a table name (letters, digits, underscores)');
  const database = spec.database ?? defaultDatabase;
  if (typeof database !== 'string' || !IDENTIFIER.test(database)) throw fail('database must be a database name (letters, digits, underscores)');
  const name = spec.name ?? table;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > 100) throw fail('name must be up to 100 letters, digits, "_", "." or "-"');
  const mode = spec.mode ?? 'event';
  if (mode !== 'event' && mode !== 'batch') throw fail(`mode must be "event" (a message per row) or "batch" (a message per transaction), got ${JSON.stringify(mode)}`);
  const qos = spec.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw fail(`qos must be 0, 1 or 2, got ${JSON.stringify(qos)}`);
  const retain = spec.retain ?? false;
  if (typeof retain !== 'boolean') throw fail(`retain must be true or false, got ${JSON.stringify(retain)}`);
  const track = spec.track ?? false;
  if (typeof track !== 'boolean') throw fail(`track must be true or false, got ${JSON.stringify(track)}`);
  const operations = parseOperations(spec.operations, fail);
  let topic: TopicTemplate;
  let fields: FieldMapping | null;
  let filter: RowPredicate | null;
  try {
    topic = parseTemplate(spec.topic);
    fields = parseFields(spec.fields);
    filter = parseFilter(spec.filter);
  } catch (error) {
    if (error instanceof TemplateError || error instanceof MappingError || error instanceof FilterError) throw fail(error.message);
    throw error;
  }
  if (mode === 'batch' && topic.rowFields.length > 0) {
    throw fail(`topic "${topic.text}": a batch message holds many rows, so its topic may only use ${TEMPLATE_NAMES.filter((n) => n !== 'op').map((n) => `{${n}}`).join(', ')}`);
  }
  if (mode === 'batch' && topic.parts.some((part) => typeof part !== 'string' && part.field === 'op')) {
    throw fail(`topic "${topic.text}": a batch message can mix operations, so its topic cannot use {op}`);
  }
  return { name, database, table, operations, topic, fields, filter, qos, retain, mode, from: parseFrom(spec.from, fail), track, spec: { ...spec, name } };
}

function parseOperations(raw: unknown, fail: (message: string) => SourceError): Set<Operation> {
  if (raw === undefined) return new Set(OPERATIONS);
  const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
  if (!Array.isArray(list) || list.length === 0) throw fail('operations must be a non-empty list of insert, update, delete');
  for (const op of list) if (!(OPERATIONS as readonly unknown[]).includes(op)) throw fail(`operations: unknown operation ${JSON.stringify(op)} (insert, update, delete)`);
  return new Set(list as Operation[]);
}

function parseFrom(raw: unknown, fail: (message: string) => SourceError): 'now' | number {
  if (raw === undefined || raw === 'now') return 'now';
  const time = typeof raw === 'number' ? raw : typeof raw === 'string' ? Date.parse(raw) : raw instanceof Date ? raw.getTime() : NaN;
  if (!Number.isFinite(time) || time < 0) throw fail(`from must be "now", a date like "2026-01-31T10:00:00Z" or epoch milliseconds, got ${JSON.stringify(raw)}`);
  return time;
}

export interface ParsedSources {
  sources: SourceDefinition[];
  /** Entries refused, each with its reason; the others still run. */
  refused: Array<{ name: string; error: string }>;
}

/** Every entry on its own: a bad one is refused with its reason, the others are kept. */
export function parseSourceList(list: readonly unknown[], where: string, defaultDatabase: string): ParsedSources {
  const parsed: ParsedSources = { sources: [], refused: [] };
  const names = new Set<string>();
  list.forEach((raw, i) => {
    const entry = `${where}[${i}]`;
    try {
      const source = parseSource(raw, entry, defaultDatabase);
      if (names.has(source.name)) throw new SourceError(`${entry} (${source.name}): another source has the name ${source.name}; give one a name: option`);
      names.add(source.name);
      parsed.sources.push(source);
    } catch (error) {
      if (!(error instanceof SourceError)) throw error;
      const name = raw && typeof raw === 'object' ? String((raw as SourceSpec).name ?? (raw as SourceSpec).table ?? entry) : entry;
      parsed.refused.push({ name, error: error.message });
    }
  });
  return parsed;
}
