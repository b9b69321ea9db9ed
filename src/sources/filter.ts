// Declarative row filters of sources: `{ field: value, gt: 40 }`, combined with `all`, `any`, `not`.
// Compiled once into a predicate; nothing from the configuration is ever evaluated as code.
// Pure code, no HarperDB.

export type RowPredicate = (row: Readonly<Record<string, unknown>>) => boolean;

export class FilterError extends Error {}

const COMPARATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'notIn', 'exists', 'startsWith', 'contains'] as const;
type Comparator = (typeof COMPARATORS)[number];

export function parseFilter(raw: unknown, where = 'filter'): RowPredicate | null {
  if (raw === undefined || raw === null) return null;
  if (Array.isArray(raw)) return allOf(raw.map((item, i) => compile(item, `${where}[${i}]`)));
  return compile(raw, where);
}

function compile(raw: unknown, where: string): RowPredicate {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new FilterError(`${where} must be a condition like { field: value, gt: 40 }`);
  const spec = raw as Record<string, unknown>;
  const keys = Object.keys(spec);
  if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any')) {
    const list = spec[keys[0]];
    if (!Array.isArray(list) || list.length === 0) throw new FilterError(`${where}.${keys[0]} must be a non-empty list of conditions`);
    const parts = list.map((item, i) => compile(item, `${where}.${keys[0]}[${i}]`));
    return keys[0] === 'all' ? allOf(parts) : (row) => parts.some((p) => p(row));
  }
  if (keys.length === 1 && keys[0] === 'not') {
    const inner = compile(spec.not, `${where}.not`);
    return (row) => !inner(row);
  }
  const field = spec.field;
  if (typeof field !== 'string' || field === '') throw new FilterError(`${where} needs a field name (field: ...), or all/any/not`);
  const comparators = keys.filter((key) => key !== 'field');
  const unknown = comparators.filter((key) => !(COMPARATORS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new FilterError(`${where}: unknown comparison "${unknown[0]}" (known: ${COMPARATORS.join(', ')})`);
  if (comparators.length !== 1) throw new FilterError(`${where}: one comparison per condition (${COMPARATORS.join(', ')}); combine with all/any`);
  const comparator = comparators[0] as Comparator;
  const path = field.split('.');
  const test = comparison(comparator, spec[comparator], `${where}.${comparator}`);
  return (row) => test(read(row, path));
}

function allOf(parts: RowPredicate[]): RowPredicate {
  return (row) => parts.every((p) => p(row));
}

function read(row: unknown, path: string[]): unknown {
  let value = row;
  for (const key of path) value = value != null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

type Scalar = string | number | boolean;
const isScalar = (value: unknown): value is Scalar => ['string', 'number', 'boolean'].includes(typeof value);
const comparable = (value: unknown): number | string | undefined =>
  typeof value === 'number' || typeof value === 'string' ? value : value instanceof Date ? value.getTime() : undefined;

function comparison(comparator: Comparator, expected: unknown, where: string): (value: unknown) => boolean {
  const needScalar = () => {
    if (!isScalar(expected)) throw new FilterError(`${where} must be a string, number or boolean`);
    return expected;
  };
  switch (comparator) {
    case 'eq': {
      const want = needScalar();
      return (value) => value === want;
    }
    case 'ne': {
      const want = needScalar();
      return (value) => value !== want;
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const want = needScalar();
      if (typeof want === 'boolean') throw new FilterError(`${where} must be a number or a string`);
      return (value) => {
        const have = comparable(value);
        if (have === undefined || typeof have !== typeof want) return false;
        return comparator === 'gt' ? have > want : comparator === 'gte' ? have >= want : comparator === 'lt' ? have < want : have <= want;
      };
    }
    case 'in':
    case 'notIn': {
      if (!Array.isArray(expected) || !expected.every(isScalar)) throw new FilterError(`${where} must be a list of strings, numbers or booleans`);
      const set = new Set<unknown>(expected);
      return comparator === 'in' ? (value) => set.has(value) : (value) => !set.has(value);
    }
    case 'exists':
      if (typeof expected !== 'boolean') throw new FilterError(`${where} must be true or false`);
      return (value) => (value !== undefined && value !== null) === expected;
    case 'startsWith':
    case 'contains': {
      if (typeof expected !== 'string') throw new FilterError(`${where} must be a string`);
      return comparator === 'startsWith' ? (value) => typeof value === 'string' && value.startsWith(expected) : (value) => typeof value === 'string' && value.includes(expected);
    }
  }
}
