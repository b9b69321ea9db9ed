// Retained messages are rows of tables. A topic a table rule matches is a row of the rule's table,
// keyed by the topic; any other topic `a/b/c/d` is row `d` of the table for prefix `a/b/c/`,
// created when its first retained message is stored. Keys too long for HarperDB are hashed (see
// rowKey); every row keeps its full topic. A new subscription reads every row its filter can match.
import type { CommitWrite } from './bus/log.js';
import { WriteBatch } from './harper/batch.js';
import type { HarperTable } from './harper/tables.js';
import { messageFromRow, messageRow, type BusMessage, type MessageRow } from './messages.js';
import type { TopicRule } from './rules/rule.js';
import type { RuleStore } from './rules/ruleStore.js';
import { ruleRow } from './rules/ruleTables.js';
import type { TableBudget } from './tables/creationBudget.js';
import type { TopicRegistry, TopicTable } from './tables/registry.js';
import { topicMatches } from './topics/match.js';
import { rowKey, splitTopic } from './topics/naming.js';
import { patternFilter } from './topics/patterns.js';

/** Another source of retained messages (the $SYS tree). */
export type RetainedSource = (filter: string) => AsyncIterable<BusMessage>;

/** Where one topic's retained message is kept. */
export interface RetainedPlace {
  table: HarperTable<MessageRow>;
  tableName: string;
  database: string;
  key: string;
  row(message: BusMessage): MessageRow;
}

/** One retained write: a row to put, or null to delete the key. */
type RetainedWrite = [table: HarperTable<MessageRow>, key: string, row: MessageRow | null];

function applyWrite([table, key, row]: RetainedWrite, context: object): void {
  void (row ? table.put(key, row, context) : table.delete(key, context));
}

/** Called with the topic of every retained message stored (for REST topic paths). */
export type StoredListener = (topic: string) => void;

export class RetainedStore {
  private readonly sources: RetainedSource[] = [];
  /** Writes of one event-loop turn share a transaction, one per database. */
  private readonly batches = new Map<string, WriteBatch<RetainedWrite>>();

  constructor(
    private readonly registry: TopicRegistry,
    private readonly rules: RuleStore,
    private readonly onStored: StoredListener = () => undefined,
  ) {}

  addSource(source: RetainedSource): void {
    this.sources.push(source);
  }

  /** The table whose role permissions govern `topic` (it may not exist yet). */
  tableName(topic: string): string {
    return this.rules.match(topic)?.rule.table ?? this.registry.nameFor(splitTopic(topic).prefix);
  }

  /** Where `topic` is kept, if its table exists; null when a table would have to be created. */
  placeOf(topic: string): RetainedPlace | null {
    const matched = this.rules.match(topic);
    if (matched) {
      const { rule, levels, table } = matched;
      return {
        table: table.table as HarperTable<MessageRow>,
        tableName: table.name,
        database: table.database,
        key: rowKey(topic),
        row: (message) => ruleRow(rule, levels, message),
      };
    }
    const { prefix, row } = splitTopic(topic);
    const table = this.registry.get(prefix);
    return table ? this.hierarchical(table, row) : null;
  }

  /**
   * Creates the table `topic` needs (one per prefix), within the broker's and the client's
   * limits: PublishRefused 'quota-exceeded' beyond them.
   */
  async prepare(topic: string, createdBy: string, budget?: TableBudget): Promise<RetainedPlace> {
    const known = this.placeOf(topic);
    if (known) return known;
    const { prefix, row } = splitTopic(topic);
    return this.hierarchical(await this.registry.ensure(prefix, createdBy, budget), row);
  }

  /**
   * A retained publish replaces the row; an empty retained payload clears it [MQTT-3.3.1-10].
   * Resolves once committed; writes of one turn commit together, in the order they came.
   */
  write(place: RetainedPlace, message: BusMessage): Promise<unknown> {
    let batch = this.batches.get(place.database);
    if (!batch) {
      batch = new WriteBatch<RetainedWrite>((writes, context) => {
        for (const write of writes) applyWrite(write, context);
      });
      this.batches.set(place.database, batch);
    }
    return batch.add(this.retainedWrite(place, message));
  }

  /**
   * The same write as `write`, to commit in the transaction of the message log's record (the bus's
   * `commitWith`), so that the message is routed only once its row is there. Only for a place in
   * the log's database.
   */
  commitWrite(place: RetainedPlace, message: BusMessage): CommitWrite {
    const write = this.retainedWrite(place, message);
    return { key: `retained/${place.database}/${place.tableName}/${place.key}`, write: (context) => applyWrite(write, context) };
  }

  /** The row a retained publish puts, or null for an empty payload, which clears it [MQTT-3.3.1-10]. */
  private retainedWrite(place: RetainedPlace, message: BusMessage): RetainedWrite {
    const empty = message.payload.length === 0;
    if (!empty) this.onStored(message.topic);
    return [place.table, place.key, empty ? null : place.row(message)];
  }

  /** The retained message of one topic. */
  async get(topic: string): Promise<MessageRow | undefined> {
    const place = this.placeOf(topic);
    return place ? ((await place.table.get(place.key)) ?? undefined) : undefined;
  }

  /** Every retained message `filter` matches, read lazily (callers pace it to their client). */
  async *matching(filter: string): AsyncIterable<BusMessage> {
    for await (const { row } of this.rows(filter)) yield messageFromRow(row);
    for (const source of this.sources) yield* source(filter);
  }

  /** True when a table rule can hold topics `filter` matches. */
  reachesRules(filter: string): boolean {
    return this.rules.current.overlapping(filter).length > 0;
  }

  /**
   * The stored rows `filter` matches, with the names of the extra columns a rule row has (its
   * named levels and payload columns). Rule tables are searched by the levels the filter pins.
   */
  async *rows(filter: string): AsyncIterable<{ row: MessageRow; columns: readonly string[] }> {
    for (const { rule, overlap } of this.rules.current.overlapping(filter)) {
      const table = this.rules.tables.get(rule);
      if (!table) continue;
      const columns = [...rule.pattern.names, ...Object.keys(rule.columns)];
      const conditions = Object.entries(overlap.equal).map(([attribute, value]) => ({ attribute, value }));
      for await (const row of table.table.search(conditions.length > 0 ? { conditions } : {})) {
        // A row of a less specific rule may belong to a more specific one added later: skip it there.
        if (topicMatches(filter, row.topic) && this.rules.current.match(row.topic)?.rule === rule) yield { row, columns };
      }
    }
    await this.registry.caughtUp();
    for (const { value: table, row: id } of this.registry.tree.candidates(filter)) {
      if (id !== null) {
        const row = await table.table.get(rowKey(id));
        if (row && topicMatches(filter, row.topic)) yield { row, columns: [] };
        continue;
      }
      for await (const row of table.table.search({})) {
        if (topicMatches(filter, row.topic)) yield { row, columns: [] };
      }
    }
  }

  /**
   * Moves into `rule`'s table the retained rows it now owns that are kept elsewhere (a per-level
   * table, or the table of a less specific rule); returns how many moved. Each row is written to
   * its new table before it is deleted from the old one.
   */
  async moveInto(rule: TopicRule): Promise<number> {
    const target = this.rules.tables.get(rule); // tables are found by database and name
    if (!target) return 0;
    const filter = patternFilter(rule.pattern);
    const sources: Array<HarperTable<MessageRow>> = [];
    for (const { value } of this.registry.tree.candidates(filter)) sources.push(value.table);
    for (const other of this.rules.current.overlapping(filter)) {
      const table = this.rules.tables.get(other.rule);
      if (table && table !== target) sources.push(table.table as HarperTable<MessageRow>);
    }
    let moved = 0;
    for (const source of new Set(sources)) {
      for await (const row of source.search({})) {
        const owner = this.rules.match(row.topic);
        if (owner?.rule.pattern.source !== rule.pattern.source) continue;
        const message = messageFromRow(row);
        await target.table.put(rowKey(row.topic), ruleRow(rule, owner.levels, message));
        await source.delete((row as MessageRow & { id: string }).id);
        moved++;
      }
    }
    return moved;
  }

  /** Retained messages in all tables. */
  async count(): Promise<number> {
    return (await this.registry.retainedCount()) + (await this.rules.tables.retainedCount());
  }

  private hierarchical(table: TopicTable, row: string): RetainedPlace {
    return { table: table.table, tableName: table.name, database: table.database, key: rowKey(row), row: messageRow };
  }
}
