// The table rules in force: those of config.yaml, then those added at runtime over REST, which are
// kept in `mqtt_topic_rules` so that every worker thread and every restart has them. Every thread
// follows that table and rebuilds its RuleSet and rule tables when it changes.
import { createHash } from 'node:crypto';
import { log } from '../harper/log.js';
import { ensureTable, openTable, type HarperTable, type TableEvent } from '../harper/tables.js';
import { checkSharedTables, parseRule, ruleDefinition, RuleError, type RuleDefinition, type TopicRule } from './rule.js';
import { RuleSet, type RuleMatch } from './ruleSet.js';
import { RuleTables, type RuleTable } from './ruleTables.js';

export const RULES_TABLE = 'mqtt_topic_rules';

interface StoredRule extends RuleDefinition {
  id: string;
  createdAt: Date;
  createdBy: string;
}

export interface ListedRule extends RuleDefinition {
  id: string;
  source: 'config' | 'runtime';
  createdAt?: Date;
  createdBy?: string;
}

/** A rule's id: a short hash of its pattern (patterns contain '/', '+' and '#', awkward in URLs). */
export function ruleId(pattern: string): string {
  return createHash('sha256').update(pattern).digest('hex').slice(0, 16);
}

export class RuleStore {
  current: RuleSet;
  readonly tables = new RuleTables();
  private runtime: TopicRule[] = [];
  private readonly listeners: Array<(added: TopicRule[]) => void> = [];

  private constructor(
    private readonly configRules: readonly TopicRule[],
    private readonly stored: HarperTable<StoredRule>,
    private readonly database: string,
  ) {
    this.current = new RuleSet(configRules);
  }

  static async open(database: string, configRules: readonly TopicRule[]): Promise<RuleStore> {
    const stored = await ensureTable<StoredRule>({
      database,
      table: RULES_TABLE,
      attributes: [
        { name: 'id', type: 'String', isPrimaryKey: true },
        { name: 'pattern', type: 'String' },
        { name: 'table', type: 'String' },
        { name: 'database', type: 'String' },
        { name: 'columns' },
        { name: 'createdAt', type: 'Date' },
        { name: 'createdBy', type: 'String' },
      ],
      audit: true, // other threads follow its changes
    });
    const store = new RuleStore(configRules, stored, database);
    const changes = await stored.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<StoredRule>) => {
      if (event.type === 'put' || event.type === 'delete') store.reload().catch((error) => log.error('could not apply changed table rules', error));
    });
    await store.reload();
    return store;
  }

  /** The rule and table that own `topic`, if a rule matches it. */
  match(topic: string): (RuleMatch & { table: RuleTable }) | null {
    const found = this.current.match(topic);
    if (!found) return null;
    const table = this.tables.get(found.rule);
    return table ? { ...found, table } : null;
  }

  /** Called with the rules added at runtime, once this thread has their tables. */
  onAdded(listener: (added: TopicRule[]) => void): void {
    this.listeners.push(listener);
  }

  list(): ListedRule[] {
    const listed: ListedRule[] = this.configRules.map((rule) => ({ id: ruleId(rule.pattern.source), source: 'config', ...ruleDefinition(rule) }));
    for (const rule of this.runtime) listed.push({ id: ruleId(rule.pattern.source), source: 'runtime', ...ruleDefinition(rule) });
    return listed;
  }

  /**
   * Adds (or replaces, for the same pattern) a runtime rule after checking it against the others;
   * RuleError says what is wrong. Resolves once the rule is stored (every thread then applies it).
   */
  async add(raw: unknown, createdBy: string): Promise<TopicRule> {
    const rule = parseRule(raw, 'rule', this.database);
    const id = ruleId(rule.pattern.source);
    if (this.configRules.some((r) => r.pattern.source === rule.pattern.source)) {
      throw new RuleError(`rule: ${rule.pattern.source} is defined in config.yaml; change it there`);
    }
    const others = [...this.configRules, ...this.runtime.filter((r) => r.pattern.source !== rule.pattern.source)];
    try {
      checkSharedTables([...others, rule]);
    } catch (error) {
      throw new RuleError(`rule: ${(error as Error).message}`);
    }
    this.checkTableIsRuleTable(rule);
    await this.stored.put(id, { id, ...ruleDefinition(rule), createdAt: new Date(), createdBy });
    await this.reload();
    return rule;
  }

  /** Removes a runtime rule; its table and rows stay. False when there is no such runtime rule. */
  async remove(id: string): Promise<boolean> {
    if (this.configRules.some((rule) => ruleId(rule.pattern.source) === id)) {
      throw new RuleError(`rule ${id} is defined in config.yaml; remove it there`);
    }
    if (!this.runtime.some((rule) => ruleId(rule.pattern.source) === id)) return false;
    await this.stored.delete(id);
    await this.reload();
    return true;
  }

  /** A rule may only write into a table that is new or already a rule table (never an app's own). */
  private checkTableIsRuleTable(rule: TopicRule): void {
    if (this.tables.get(rule)) return;
    const existing = openTable<object>(rule.database, rule.table) as unknown as { attributes?: Array<{ name: string }> } | undefined;
    if (existing && !existing.attributes?.some((a) => a.name === 'topic')) {
      throw new RuleError(`rule: (${rule.pattern.source}) table ${rule.database}.${rule.table} already exists and is not a rule table`);
    }
  }

  private async reload(): Promise<void> {
    const runtime: TopicRule[] = [];
    for await (const row of this.stored.search({})) {
      try {
        runtime.push(parseRule({ pattern: row.pattern, table: row.table, database: row.database, columns: row.columns }, `${RULES_TABLE} ${row.id}`, this.database));
      } catch (error) {
        log.error(`ignoring stored table rule ${row.id}: ${(error as Error).message}`);
      }
    }
    const before = new Set(this.runtime.map((rule) => rule.pattern.source));
    const all = [...this.configRules, ...runtime];
    await this.tables.open(all);
    this.runtime = runtime;
    this.current = new RuleSet(all);
    const added = runtime.filter((rule) => !before.has(rule.pattern.source));
    if (added.length > 0) for (const listener of this.listeners) listener(added);
  }
}
