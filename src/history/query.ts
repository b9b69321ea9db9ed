// A REST query of the history (`/mqtt_history/?topic=T&sort(-id)&limit(10)`), as HarperDB parses
// it, turned into a plan: what to look up in the batch table (a topic, a range of ids), the exact
// test each message row must pass, the order, and the rows' shape. The history stores batches
// (batches.ts), so HarperDB cannot run these queries itself; this keeps its query language.
import { epochMs, idAt } from './ids.js';

export class HistoryQueryError extends Error {}

type Row = Record<string, unknown>;

interface Condition {
  attribute?: unknown;
  search_attribute?: unknown;
  comparator?: string;
  search_type?: string;
  value?: unknown;
  search_value?: unknown;
  conditions?: Condition[];
  operator?: string;
  chainedConditions?: Condition[];
}

interface Sort {
  attribute?: unknown;
  descending?: boolean;
  next?: Sort;
}

export interface HistoryTarget {
  conditions?: unknown;
  operator?: string;
  sort?: unknown;
  limit?: number;
  offset?: number;
  select?: unknown;
}

export interface HistoryPlan {
  /** What the topic index can look up, when every row must have it. */
  topic: { equals: string } | { startsWith: string } | null;
  /** Message ids from (inclusive) and to (exclusive); null: open. Rows still pass `matches`. */
  from: string | null;
  to: string | null;
  /** Reading order of the batches (newest first when descending). */
  descending: boolean;
  matches(row: Row): boolean;
  /** A sort on another field than id or timestamp: rows are collected and sorted. */
  compare: ((a: Row, b: Row) => number) | null;
  offset: number;
  limit: number | null;
  shape(row: Row): unknown;
}

/** Rows a sort on another field than id or timestamp may collect. */
export const MAX_SORTED_ROWS = 10_000;

const COMPARATORS: Record<string, string> = {
  equals: 'eq', eq: 'eq', equal: 'eq',
  not_equal: 'ne', ne: 'ne',
  greater_than: 'gt', gt: 'gt',
  greater_than_equal: 'ge', ge: 'ge',
  less_than: 'lt', lt: 'lt',
  less_than_equal: 'le', le: 'le',
  starts_with: 'sw', sw: 'sw',
  ends_with: 'ew', ew: 'ew',
  contains: 'ct', ct: 'ct',
  between: 'between',
};

/** A field's value in comparable form: numbers for qos and time, booleans for retain, text otherwise. */
function comparable(attribute: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (attribute) {
    case 'qos':
      return Number(value);
    case 'retain':
      return value === true || value === 'true';
    case 'timestamp':
      return epochMs(value);
    default:
      return typeof value === 'object' && !(value instanceof Date) ? JSON.stringify(value) : String(value instanceof Date ? value.toISOString() : value);
  }
}

function fieldOf(row: Row, attribute: string[]): unknown {
  let value: unknown = row;
  for (const step of attribute) value = value !== null && typeof value === 'object' ? (value as Row)[step] : undefined;
  return value;
}

function attributePath(attribute: unknown): string[] {
  if (typeof attribute === 'string') return attribute.split('.');
  if (Array.isArray(attribute) && attribute.every((a) => typeof a === 'string')) return attribute as string[];
  throw new HistoryQueryError(`a condition needs an attribute name, got ${JSON.stringify(attribute)}`);
}

function test(comparator: string, field: unknown, value: unknown): boolean {
  if (comparator === 'eq') return field === value;
  if (comparator === 'ne') return field !== value;
  if (field === null || field === undefined) return false;
  switch (comparator) {
    case 'gt':
      return (field as number) > (value as number);
    case 'ge':
      return (field as number) >= (value as number);
    case 'lt':
      return (field as number) < (value as number);
    case 'le':
      return (field as number) <= (value as number);
    case 'sw':
      return String(field).startsWith(String(value));
    case 'ew':
      return String(field).endsWith(String(value));
    case 'ct':
      return String(field).includes(String(value));
    case 'between': {
      const [low, high] = value as [unknown, unknown];
      return (field as number) >= (low as number) && (field as number) <= (high as number);
    }
  }
  return false;
}

function predicate(condition: Condition, parentAttribute?: unknown): (row: Row) => boolean {
  if (Array.isArray(condition.conditions)) return group(condition.conditions, condition.operator);
  const attribute = condition.attribute ?? condition.search_attribute ?? parentAttribute;
  const path = attributePath(attribute);
  const name = path.join('.');
  const comparator = COMPARATORS[condition.comparator ?? condition.search_type ?? 'equals'];
  if (!comparator) throw new HistoryQueryError(`unknown comparator ${JSON.stringify(condition.comparator ?? condition.search_type)} on ${name}`);
  const raw = condition.value !== undefined ? condition.value : condition.search_value;
  const value = comparator === 'between' ? (Array.isArray(raw) && raw.length === 2 ? raw.map((v) => comparable(name, v)) : badBetween(name)) : comparable(name, raw);
  if (name === 'timestamp' && comparator !== 'between' && raw !== null && raw !== undefined && !Number.isFinite(value)) {
    throw new HistoryQueryError(`timestamp needs a time (an ISO date or epoch ms), got ${JSON.stringify(raw)}`);
  }
  const own = (row: Row): boolean => test(comparator, comparable(name, fieldOf(row, path)), value);
  const chained = (condition.chainedConditions ?? []).map((c) => predicate(c, attribute));
  return chained.length === 0 ? own : (row) => own(row) && chained.every((p) => p(row));
}

function badBetween(name: string): never {
  throw new HistoryQueryError(`between on ${name} needs two values`);
}

function group(conditions: Condition[], operator: string | undefined): (row: Row) => boolean {
  const parts = conditions.map((c) => predicate(c));
  return operator?.toLowerCase() === 'or' ? (row) => parts.some((p) => p(row)) : (row) => parts.every((p) => p(row));
}

/** Narrows [from, to) of message ids by a top-level condition on id or timestamp. */
function narrow(range: { from: string | null; to: string | null }, condition: Condition): void {
  const name = typeof condition.attribute === 'string' ? condition.attribute : null;
  if (name !== 'id' && name !== 'timestamp') return;
  const comparator = COMPARATORS[condition.comparator ?? 'equals'];
  const bound = (value: unknown, after: boolean): string | null => {
    if (name === 'id') return typeof value === 'string' ? (after ? value + '\u0000' : value) : null;
    const ms = epochMs(value);
    return Number.isFinite(ms) ? idAt(after ? Math.floor(ms) + 1 : ms) : null;
  };
  const raise = (from: string | null) => {
    if (from !== null && (range.from === null || from > range.from)) range.from = from;
  };
  const lower = (to: string | null) => {
    if (to !== null && (range.to === null || to < range.to)) range.to = to;
  };
  const value = condition.value;
  if (comparator === 'eq') {
    raise(bound(value, false));
    lower(bound(value, true));
  } else if (comparator === 'ge') raise(bound(value, false));
  else if (comparator === 'gt') raise(bound(value, true));
  else if (comparator === 'lt') lower(bound(value, false));
  else if (comparator === 'le') lower(bound(value, true));
  else if (comparator === 'between' && Array.isArray(value)) {
    raise(bound(value[0], false));
    lower(bound(value[1], true));
  }
  for (const chained of condition.chainedConditions ?? []) narrow(range, { attribute: name, ...chained });
}

function shapeOf(select: unknown): (row: Row) => unknown {
  if (select === undefined || select === null) return (row) => row;
  if (typeof select === 'string') return (row) => row[select];
  if (Array.isArray(select) && select.every((s) => typeof s === 'string')) {
    const names = select as string[];
    if ((select as { asArray?: boolean }).asArray) return (row) => names.map((name) => row[name]);
    return (row) => {
      const shown: Row = {};
      for (const name of names) shown[name] = row[name];
      return shown;
    };
  }
  throw new HistoryQueryError('select takes attribute names of the history: id, topic, payload, format, contentType, qos, retain, clientId, timestamp, data, properties');
}

function comparison(sort: Sort): (a: Row, b: Row) => number {
  const path = attributePath(sort.attribute);
  const name = path.join('.');
  const then = sort.next ? comparison(sort.next) : null;
  return (a, b) => {
    const x = comparable(name, fieldOf(a, path)) as number | string;
    const y = comparable(name, fieldOf(b, path)) as number | string;
    const order = x === y ? 0 : x === undefined || x === null ? -1 : y === undefined || y === null ? 1 : x < y ? -1 : 1;
    return (sort.descending ? -order : order) || (then ? then(a, b) : 0);
  };
}

export function planQuery(target: HistoryTarget): HistoryPlan {
  const conditions = Array.isArray(target.conditions) ? (target.conditions as Condition[]) : [];
  const anyOf = target.operator?.toLowerCase() === 'or';
  const matches = group(conditions, target.operator);
  const range = { from: null as string | null, to: null as string | null };
  let topic: HistoryPlan['topic'] = null;
  if (!anyOf) {
    for (const condition of conditions) {
      narrow(range, condition);
      if (condition.attribute !== 'topic' || typeof condition.value !== 'string') continue;
      const comparator = COMPARATORS[condition.comparator ?? 'equals'];
      if (comparator === 'eq') topic = { equals: condition.value };
      else if (comparator === 'sw' && !topic) topic = { startsWith: condition.value };
    }
  }
  const sort = (target.sort ?? null) as Sort | null;
  const byKey = sort === null || sort.attribute === 'id' || sort.attribute === 'timestamp';
  const limit = target.limit === undefined || target.limit === null ? null : Number(target.limit);
  const offset = Number(target.offset ?? 0);
  if (limit !== null && !(limit >= 0)) throw new HistoryQueryError(`limit must be a number of rows, got ${JSON.stringify(target.limit)}`);
  if (!(offset >= 0)) throw new HistoryQueryError(`offset must be a number of rows, got ${JSON.stringify(target.offset)}`);
  return {
    topic,
    from: range.from,
    to: range.to,
    descending: byKey ? sort?.descending === true : false,
    matches,
    compare: byKey ? null : comparison(sort!),
    offset,
    limit,
    shape: shapeOf(target.select),
  };
}
