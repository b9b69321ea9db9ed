// Retained messages are the rows of the topic tables: topic `a/b/c/d` is row `d` of the table for
// `a/b/c/`. A new subscription reads every row its filter can match, across tables.
import type { BusMessage, MessageRow } from './messages.js';
import { messageFromRow, messageRow } from './messages.js';
import type { TopicRegistry, TopicTable } from './tables/registry.js';
import { topicMatches } from './topics/match.js';

/** Another source of retained messages (the $SYS tree). */
export type RetainedSource = (filter: string) => AsyncIterable<BusMessage>;

export class RetainedStore {
  private readonly sources: RetainedSource[] = [];

  constructor(private readonly registry: TopicRegistry) {}

  addSource(source: RetainedSource): void {
    this.sources.push(source);
  }

  /** A retained publish replaces the row; an empty retained payload clears it [MQTT-3.3.1-10]. */
  set(table: TopicTable, row: string, message: BusMessage): Promise<unknown> {
    return message.payload.length === 0 ? table.table.delete(row) : table.table.put(row, messageRow(message));
  }

  async *matching(filter: string): AsyncIterable<BusMessage> {
    for (const { value: table, row } of this.registry.tree.candidates(filter)) {
      if (row !== null) {
        const found = await table.table.get(row);
        if (found && topicMatches(filter, found.topic)) yield messageFromRow(found);
        continue;
      }
      for await (const found of table.table.search({})) {
        if (topicMatches(filter, found.topic)) yield messageFromRow(found as MessageRow);
      }
    }
    for (const source of this.sources) yield* source(filter);
  }
}
