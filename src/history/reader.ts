// Reading the history: batch records expanded into one row per message, in exact id order (ids
// start with the time the broker accepted the message).
import type { HarperTable } from '../harper/tables.js';
import { messageRow, readBusMessage, type MessageRow } from '../messages.js';
import { literalPrefix } from '../telemetry/telemetryQuery.js';
import { batchesBefore, firstBatchFor, inIdOrder, messageIds, type BatchRecord, type StoredMessage } from './batches.js';
import { BatchCount } from './count.js';
import { idAt } from './ids.js';

export type HistoryRow = MessageRow & { id: string };

export interface Scan {
  topic: { equals: string } | { startsWith: string } | null;
  /** Message ids from (inclusive) and to (exclusive); null: open. */
  from: string | null;
  to: string | null;
  descending: boolean;
}

/** Batch keys start with base-36 digits: every one is >= '0'. */
const EVERY_KEY = '0';
/** Keys read per rowCount() at most: a long history is counted over several calls after a start. */
const COUNT_KEYS_PER_CALL = 200_000;

function historyRow(id: string, stored: StoredMessage): HistoryRow {
  return Object.assign(messageRow(readBusMessage(stored)), { id });
}

export class HistoryReader {
  private readonly counted = new BatchCount();

  constructor(private readonly table: HarperTable<BatchRecord>) {}

  /** Message rows of `scan`, in id order (newest first when descending). */
  rows(scan: Scan): AsyncIterable<HistoryRow> {
    return inIdOrder(this.batches(scan), scan.descending);
  }

  private async *batches(scan: Scan): AsyncIterable<{ key: string; rows: HistoryRow[] }> {
    const conditions: object[] = [];
    if (scan.topic && 'equals' in scan.topic) conditions.push({ attribute: 'topics', comparator: 'equals', value: scan.topic.equals });
    else if (scan.topic) conditions.push({ attribute: 'topics', comparator: 'starts_with', value: scan.topic.startsWith });
    conditions.push({ attribute: 'id', comparator: 'greater_than_equal', value: scan.from === null ? EVERY_KEY : firstBatchFor(scan.from) });
    if (scan.to !== null) conditions.push({ attribute: 'id', comparator: 'less_than', value: batchesBefore(scan.to) });
    const query = { conditions, sort: { attribute: 'id', descending: scan.descending }, select: ['id', 'messages'] };
    let previous: string | undefined;
    for await (const batch of this.table.search(query)) {
      // A batch holding several topics of a prefix can come once per topic.
      if (batch.id === previous || !Array.isArray(batch.messages)) continue;
      previous = batch.id;
      const ids = messageIds(batch.id, batch.messages);
      const rows: HistoryRow[] = [];
      batch.messages.forEach((stored, index) => {
        if (!wanted(scan, stored.topic, ids[index]!)) return;
        rows.push(historyRow(ids[index]!, stored));
      });
      yield { key: batch.id, rows };
    }
  }

  /** One message by id, or undefined. */
  async find(id: string): Promise<HistoryRow | undefined> {
    for await (const row of this.rows({ topic: null, from: id, to: id + '\u0000', descending: false })) if (row.id === id) return row;
    return undefined;
  }

  /**
   * Messages of topics that may match `filter` (the caller checks each with topicMatches), newest
   * first, within [from, to] (epoch ms; null: open).
   */
  search(filter: string, from: number | null, to: number | null): AsyncIterable<HistoryRow> {
    const prefix = literalPrefix(filter);
    // Without its last '/', so that `a/#` also finds `a` itself.
    const topic = prefix === filter ? { equals: filter } : prefix !== '' ? { startsWith: prefix.slice(0, -1) } : null;
    return this.rows({ topic, from: from === null ? null : idAt(from), to: to === null ? null : idAt(Math.floor(to) + 1), descending: true });
  }

  /** The newest `limit` messages of a topic, newest first. */
  async latest(topic: string, limit: number): Promise<HistoryRow[]> {
    const rows: HistoryRow[] = [];
    if (limit <= 0) return rows;
    for await (const row of this.rows({ topic: { equals: topic }, from: null, to: null, descending: true })) {
      rows.push(row);
      if (rows.length >= limit) break;
    }
    return rows;
  }

  /**
   * Messages kept, from the counts in the batch keys (BatchCount): new batches are counted as they
   * come, expired ones leave by the minute. Expired batches count until HarperDB's sweep removes
   * them; after a start, a long history is counted over the first calls.
   */
  rowCount(): number {
    const store = this.table.primaryStore;
    let read = 0;
    for (const { key, value } of store.getRange?.({ start: this.counted.newest ?? true, lazy: true, snapshot: false }) ?? []) {
      if (key === this.counted.newest || typeof key !== 'string') continue;
      if (++read > COUNT_KEYS_PER_CALL) break;
      if (value != null) this.counted.add(key);
    }
    this.counted.keptFrom(this.oldestKey());
    return this.counted.total;
  }

  private oldestKey(): string | null {
    for (const { key, value } of this.table.primaryStore.getRange?.({ start: true, lazy: true, snapshot: false }) ?? []) {
      if (value != null && typeof key === 'string') return key;
    }
    return null;
  }
}

function wanted(scan: Scan, topic: string, id: string): boolean {
  const { topic: wantedTopic } = scan;
  const topicMatches = wantedTopic === null || ('equals' in wantedTopic ? topic === wantedTopic.equals : topic.startsWith(wantedTopic.startsWith));
  return topicMatches && (scan.from === null || id >= scan.from) && (scan.to === null || id < scan.to);
}
