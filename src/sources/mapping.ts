// Which fields of a row a source's message carries, under which names. `fields: [a, b]` selects;
// `fields: { MonitorId: monitor, Value: value }` selects and renames; a dotted name reads a nested
// field (`power.battery`). No mapping: the whole row. Pure code, no HarperDB.

export type FieldMapping = ReadonlyArray<{ from: string[]; to: string }>;

export class MappingError extends Error {}

export function parseFields(raw: unknown): FieldMapping | null {
  if (raw === undefined || raw === null) return null;
  const pairs: Array<[unknown, unknown]> = Array.isArray(raw)
    ? raw.map((name) => [name, name])
    : typeof raw === 'object'
      ? Object.entries(raw as Record<string, unknown>)
      : [];
  if (pairs.length === 0) throw new MappingError('fields must be a non-empty list of field names or a mapping { sourceField: messageField }');
  const targets = new Set<string>();
  return pairs.map(([from, to]) => {
    if (typeof from !== 'string' || from === '' || typeof to !== 'string' || to === '') {
      throw new MappingError(`fields: ${JSON.stringify(from)} -> ${JSON.stringify(to)} must map a field name to a field name`);
    }
    if (targets.has(to)) throw new MappingError(`fields: two fields map to "${to}"`);
    targets.add(to);
    return { from: from.split('.'), to };
  });
}

/** The row as the message shows it. */
export function mapRow(mapping: FieldMapping | null, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!mapping) return row as Record<string, unknown>;
  const mapped: Record<string, unknown> = {};
  for (const { from, to } of mapping) {
    let value: unknown = row;
    for (const key of from) value = value != null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (value !== undefined) mapped[to] = value;
  }
  return mapped;
}
