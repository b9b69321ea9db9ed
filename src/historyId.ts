// Primary keys of the history table, and time conditions turned into key ranges.

/**
 * History ids sort by time, so `sort(-id)` lists newest first (HarperDB 4.7 does not sort a
 * `topic=` query by the Date `timestamp`): fixed-width base-36 milliseconds, thread, sequence.
 */
export function historyId(timestamp: number, thread: number, sequence: number): string {
  return `${timePrefix(timestamp)}-${thread.toString(36).padStart(2, '0')}-${(sequence % 36 ** 6).toString(36).padStart(6, '0')}`;
}

function timePrefix(ms: number): string {
  return Math.max(0, ms).toString(36).padStart(9, '0');
}

/**
 * Below every id of millisecond `ms` and later, above every earlier one (ids of a millisecond
 * start with its prefix and are longer). Lower bound for ">= ms", upper bound for "< ms".
 */
function idAt(ms: number): string {
  return timePrefix(Math.ceil(ms));
}

type Condition = { attribute?: unknown; comparator?: string; value?: unknown; conditions?: Condition[]; chainedConditions?: Condition[]; [key: string]: unknown };

const COMPARATORS: Record<string, 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'between'> = {
  gt: 'gt', greater_than: 'gt', greaterThan: 'gt', '>': 'gt',
  ge: 'ge', greater_than_equal: 'ge', greaterThanEqual: 'ge', '>=': 'ge',
  lt: 'lt', less_than: 'lt', lessThan: 'lt', '<': 'lt',
  le: 'le', less_than_equal: 'le', lessThanEqual: 'le', '<=': 'le',
  eq: 'eq', equals: 'eq', equal: 'eq', '==': 'eq', '===': 'eq',
  between: 'between', '...': 'between',
};

/** Epoch ms of a query value (a Date, epoch ms as a number or digits, or a date string); NaN if none. */
export function epochMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
  return NaN;
}

/**
 * A condition on `timestamp` as the same condition on the primary key (ids start with the time),
 * or null when it cannot be (another comparator, a value that is no time). The history table has
 * no timestamp index: a second index cost about a quarter of the history's write time.
 */
export function timeAsIdCondition(condition: Condition): Condition | null {
  if (condition.attribute !== 'timestamp') return null;
  const comparator = COMPARATORS[condition.comparator ?? 'equals'];
  if (!comparator) return null;
  if (comparator === 'between') {
    const [from, to] = Array.isArray(condition.value) ? condition.value.map(epochMs) : [NaN, NaN];
    if (!Number.isFinite(from) || !Number.isFinite(to)) return null;
    return { attribute: 'id', comparator: 'between', value: [idAt(from!), idAt(Math.floor(to!) + 1)] };
  }
  const ms = epochMs(condition.value);
  if (!Number.isFinite(ms)) return null;
  switch (comparator) {
    case 'ge':
      return { attribute: 'id', comparator: 'greater_than_equal', value: idAt(ms) };
    case 'gt':
      return { attribute: 'id', comparator: 'greater_than_equal', value: idAt(Math.floor(ms) + 1) };
    case 'lt':
      return { attribute: 'id', comparator: 'less_than', value: idAt(ms) };
    case 'le':
      return { attribute: 'id', comparator: 'less_than', value: idAt(Math.floor(ms) + 1) };
    case 'eq':
      return Number.isInteger(ms) ? { attribute: 'id', comparator: 'between', value: [idAt(ms), idAt(ms + 1)] } : null;
  }
}

/** Conditions with every rewritable `timestamp` condition on the primary key instead (nested groups too). */
export function timeConditionsAsIds<T>(conditions: T): T {
  if (!Array.isArray(conditions)) return conditions;
  return conditions.map((condition: Condition) => {
    if (condition === null || typeof condition !== 'object') return condition;
    if (Array.isArray(condition.conditions)) return { ...condition, conditions: timeConditionsAsIds(condition.conditions) };
    const rewritten = timeAsIdCondition(condition);
    if (!rewritten) return condition;
    // Chained conditions (gt and lt on one attribute) may leave the attribute to their parent.
    if (Array.isArray(condition.chainedConditions)) return { ...rewritten, chainedConditions: timeConditionsAsIds(condition.chainedConditions.map((c) => ({ attribute: condition.attribute, ...c }))) };
    return rewritten;
  }) as T;
}

/** A sort on `timestamp` as the same sort on the primary key (following `next`). */
export function timeSortAsId<T>(sort: T): T {
  if (!sort || typeof sort !== 'object') return sort;
  const s = sort as { attribute?: unknown; next?: unknown };
  return { ...s, ...(s.attribute === 'timestamp' ? { attribute: 'id' } : {}), ...(s.next ? { next: timeSortAsId(s.next) } : {}) } as T;
}

/** Ids start with base-36 digits: every one is >= '0'. */
const EVERY_ID = { attribute: 'id', comparator: 'greater_than_equal', value: '0' };
const INDEXED = new Set<unknown>(['id', 'topic']);

/**
 * A REST query of the history, changed in place to use the key for time: conditions and sorts on
 * `timestamp` become id ranges. HarperDB refuses a query with no condition on an index ("id is not
 * indexed and not combined with any other conditions"): `?sort(-timestamp)` or `?clientId=x`
 * alone get a condition every id meets.
 */
export function asKeyQuery(target: { conditions?: unknown; sort?: unknown }): void {
  target.conditions = timeConditionsAsIds(target.conditions);
  target.sort = timeSortAsId(target.sort);
  const conditions = Array.isArray(target.conditions) ? (target.conditions as Condition[]) : [];
  const sortsById = (target.sort as { attribute?: unknown } | undefined)?.attribute === 'id';
  if (!conditions.some((c) => INDEXED.has(c.attribute)) && (conditions.length > 0 || sortsById)) target.conditions = [...conditions, EVERY_ID];
}
