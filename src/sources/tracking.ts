// "Was row X of table T's last change published, when, under which topic": answered from what is
// already stored, without a tracking row per message. The row's entry says which audit-log change
// was its last; the source's position says whether that change is published; the change itself,
// run through the source, gives the topic; the history table (when on) has when it was published.
import { openTable } from '../harper/tables.js';
import { idAt } from '../history/ids.js';
import { openHistory } from '../history/store.js';
import type { AuditedTable } from './auditLog.js';
import { TableFeed } from './auditLog.js';
import { buildMessages } from './changes.js';
import type { SourceDefinition } from './definition.js';
import type { Positions } from './positions.js';
import type { SentRows } from './sentRows.js';

export interface TrackingStores {
  positions: Positions;
  sent: SentRows;
  /** Database of the history table. */
  historyDatabase: string;
}

export interface SentRecord {
  source: string;
  database: string;
  table: string;
  id: unknown;
  /** The audit-log key of the row's last change: also the message's `changeId` user property. */
  changeId?: string;
  op?: string;
  changedAt?: string;
  /** true: its message is committed; false: not yet; null: the change makes no message (filtered). */
  published: boolean | null;
  topic?: string;
  /** When the broker accepted the message (from the history table, while it keeps it). */
  publishedAt?: string;
  note?: string;
}

/** `ids`: the key as it may be typed (a query string's "7" may be the number 7 or the string "7"). */
export async function sentRecord(source: SourceDefinition, ids: readonly unknown[], stores: TrackingStores): Promise<SentRecord> {
  const record: SentRecord = { source: source.name, database: source.database, table: source.table, id: ids[0], published: false };
  const table = openTable<object>(source.database, source.table) as unknown as AuditedTable | undefined;
  if (!table) return { ...record, note: 'the table does not exist' };
  const feed = new TableFeed(table);
  const id = ids.find((candidate) => feed.lastChangeOf(candidate) !== undefined);
  const last = id === undefined ? undefined : feed.lastChangeOf(id);
  if (!last) return { ...record, note: 'no such row' };
  record.id = id;
  record.changeId = String(last.position);
  record.changedAt = new Date(last.txnTime).toISOString();
  const change = feed.changeAt(last.position);
  if (change) {
    record.op = change.op;
    const built = buildMessages(source, table.primaryKey, [change]);
    const message = built.messages[0];
    if (message) record.topic = message.topic;
    else {
      record.published = null;
      record.note = built.skipped[0]?.problem ?? 'the source does not publish this change (operation or filter)';
      return record;
    }
  }
  const position = await stores.positions.read(source.name);
  record.published = position !== undefined && position.position >= last.position;
  if (!record.published || !record.topic) return record;
  // A tracking row (track: true) says exactly; otherwise the history has it while it keeps the message.
  const tracked = source.track ? await stores.sent.read(source.name, id) : undefined;
  const at = tracked?.changeId === record.changeId ? new Date(tracked.sentAt).toISOString() : await publishedAt(stores.historyDatabase, record.topic, record.changeId, last.txnTime);
  if (at) record.publishedAt = at;
  return record;
}

async function publishedAt(database: string, topic: string, changeId: string, since: number): Promise<string | undefined> {
  const history = openHistory(database);
  if (!history) return undefined;
  let read = 0;
  for await (const row of history.rows({ topic: { equals: topic }, from: idAt(since), to: null, descending: false })) {
    if (++read > 1000) break;
    const pairs = row.properties?.userProperties ?? [];
    if (pairs.some((pair) => pair[0] === 'changeId' && pair[1] === changeId)) return new Date(row.timestamp).toISOString();
  }
  return undefined;
}
