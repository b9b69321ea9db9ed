// Whether a source fits its table, once the table exists: the table must keep an audit log (the
// change feed), and a table with a declared schema must have every field the topic template reads.
// Pure code over the table's description.
import type { SourceDefinition } from './definition.js';

export interface TableShape {
  audit?: boolean;
  schemaDefined?: boolean;
  primaryKey: string;
  attributes?: ReadonlyArray<{ name: string }>;
}

export function tableProblem(source: SourceDefinition, table: TableShape): string | null {
  const where = `${source.database}.${source.table}`;
  if (table.audit === false) return `table ${where} keeps no audit log (audit: false), which is the change feed sources read; turn it on for the table`;
  if (!table.schemaDefined) return null; // fields of a table without a declared schema appear with its rows
  const known = new Set((table.attributes ?? []).map((a) => a.name));
  const unknown = source.topic.rowFields.filter((field) => !known.has(field));
  if (unknown.length > 0) return `topic "${source.topic.text}": table ${where} has no field ${unknown.map((f) => `"${f}"`).join(', ')} (fields: ${[...known].join(', ')})`;
  return null;
}
