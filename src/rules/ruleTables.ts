// The tables of table rules: one row per topic (its retained message), keyed by the topic, with
// the rule's named levels and typed payload columns as indexed attributes, so HarperDB's own query
// language answers `?device=d04242` or `?temperature=gt=40`.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { readOnlyView } from '../harper/restView.js';
import { rowCount } from '../harper/rowCount.js';
import { ensureTable, type Attribute, type HarperTable } from '../harper/tables.js';
import { messageRow, READABLE_FIELDS, type BusMessage, type MessageRow } from '../messages.js';
import { claim } from '../tables/ownership.js';
import { columnValue, type TopicRule } from './rule.js';

/** A rule table's row: the message row plus the named levels and payload columns. */
export type RuleRow = MessageRow & Record<string, unknown>;

export interface RuleTable {
  name: string;
  database: string;
  table: HarperTable<RuleRow>;
}

function attributesFor(rules: readonly TopicRule[]): Attribute[] {
  const attributes: Attribute[] = [
    { name: 'id', type: 'String', isPrimaryKey: true },
    { name: 'topic', type: 'String' },
    { name: 'timestamp', type: 'Date' },
  ];
  const seen = new Set(attributes.map((a) => a.name));
  for (const rule of rules) {
    for (const name of rule.pattern.names) {
      if (!seen.has(name)) attributes.push({ name, type: 'String', indexed: true });
      seen.add(name);
    }
    for (const [name, column] of Object.entries(rule.columns)) {
      if (!seen.has(name)) attributes.push({ name, type: column.type, indexed: true });
      seen.add(name);
    }
  }
  return attributes;
}

/** Opens (or creates) the rule tables, per thread; adds and indexes attributes a changed rule needs. */
export class RuleTables {
  private readonly tables = new Map<string, RuleTable>();

  get(rule: TopicRule): RuleTable | undefined {
    return this.tables.get(`${rule.database}.${rule.table}`);
  }

  all(): IterableIterator<RuleTable> {
    return this.tables.values();
  }

  /** Retained messages held in rule tables. */
  retainedCount(): Promise<number> {
    return rowCount([...this.tables.values()].map(({ table }) => table));
  }

  /** Makes sure every rule has its table, with every column its rules declare. */
  async open(rules: readonly TopicRule[]): Promise<void> {
    const byTable = new Map<string, TopicRule[]>();
    for (const rule of rules) {
      const key = `${rule.database}.${rule.table}`;
      byTable.set(key, [...(byTable.get(key) ?? []), rule]);
    }
    for (const [key, sharing] of byTable) {
      const { database, table: name } = sharing[0]!;
      const attributes = attributesFor(sharing);
      const table = await ensureTable<RuleRow>({ database, table: name, attributes, audit: false });
      const have = new Set((table as unknown as { attributes?: Array<{ name: string }> }).attributes?.map((a) => a.name) ?? []);
      const missing = attributes.filter((a) => !a.isPrimaryKey && !have.has(a.name));
      if (missing.length > 0) {
        log.info(`adding ${missing.map((a) => a.name).join(', ')} to rule table ${key}`);
        await (table as unknown as { addAttributes(attributes: Attribute[]): Promise<void> }).addAttributes(missing);
      }
      if (!this.tables.has(key)) this.register(name, table, attributes);
      this.tables.set(key, { name, database, table });
    }
  }

  private register(name: string, table: HarperTable<RuleRow>, attributes: Attribute[]): void {
    const existing = server.resources.get(name) as { Resource: { tableName?: string } } | undefined;
    if (existing && existing.Resource.tableName !== name) {
      log.warn(`rule table ${name} not registered at /${name}: the path already serves something else`);
      return;
    }
    const fields = [...READABLE_FIELDS, ...attributes.map((a) => a.name).filter((n) => !(READABLE_FIELDS as readonly string[]).includes(n))];
    const view = readOnlyView(table, fields);
    claim(view);
    server.resources.set(name, view, { rest: true, mqtt: false });
  }
}

/** The row a retained message becomes in a rule table. */
export function ruleRow(rule: TopicRule, levels: Record<string, string>, message: BusMessage): RuleRow {
  const row = messageRow(message) as RuleRow;
  for (const name of rule.pattern.names) row[name] = levels[name] ?? null;
  const columns = Object.entries(rule.columns);
  if (columns.length > 0) {
    const json = row.format === 'json' ? row.payload : undefined;
    for (const [name, column] of columns) row[name] = columnValue(column, json);
  }
  return row;
}
