// From committed row changes to the messages a source publishes: one per row (event mode) or one
// per transaction (batch mode, `{"data":[{"op","old"?,"new"?}]}`), after the operation and row
// filters, with the topic from the template and the fields from the mapping. Pure code, no HarperDB.
import type { ForwardedProperties, QoS } from '../messages.js';
import type { Operation, SourceDefinition } from './definition.js';
import { mapRow } from './mapping.js';
import { renderTopic, type ChangeNames } from './template.js';

type Row = Readonly<Record<string, unknown>>;

export interface Change {
  /** The change's key in its database's audit log: unique, and increasing in commit order. */
  position: number;
  /** Commit time of its transaction, shared by every change the transaction made. */
  txnTime: number;
  id: unknown;
  op: Operation;
  /** The row before (update, delete); undefined when the audit log no longer has it. */
  old?: Row | null;
  /** The row after (insert, update). */
  new?: Row | null;
}

export interface Outbound {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: ForwardedProperties;
  /** The position of the last change this message covers: once it is committed, the source is past it. */
  through: number;
  /** Commit time of the change(s) it carries. */
  changeTime: number;
  /** The keys of the rows it carries, with each one's change id. */
  rows: Array<{ id: unknown; changeId: string }>;
}

export interface Skipped {
  position: number;
  problem: string;
}

export interface Built {
  messages: Outbound[];
  skipped: Skipped[];
}

/** `primaryKey`: the table's key attribute, readable in templates even when a deleted row is gone. */
export function buildMessages(source: SourceDefinition, primaryKey: string, changes: readonly Change[]): Built {
  const built: Built = { messages: [], skipped: [] };
  const wanted = changes.filter((change) => source.operations.has(change.op) && passes(source, change));
  if (source.mode === 'event') {
    for (const change of wanted) {
      const made = eventMessage(source, primaryKey, change);
      if ('problem' in made) built.skipped.push({ position: change.position, problem: made.problem });
      else built.messages.push(made);
    }
  } else {
    for (const group of byTransaction(wanted)) {
      const made = batchMessage(source, group);
      if ('problem' in made) built.skipped.push({ position: group[group.length - 1]!.position, problem: made.problem });
      else built.messages.push(made);
    }
  }
  return built;
}

/** The row a filter and a template look at: the new one, or for a delete the old one. */
function subject(change: Change): Row | null | undefined {
  return change.op === 'delete' ? change.old : change.new;
}

function passes(source: SourceDefinition, change: Change): boolean {
  const row = subject(change);
  // A deleted row the audit log no longer has cannot be tested: it is published rather than lost.
  if (!source.filter || !row) return true;
  return source.filter(row);
}

function names(source: SourceDefinition, op: Operation | ''): ChangeNames {
  return { table: source.table, database: source.database, source: source.name, op };
}

function eventMessage(source: SourceDefinition, primaryKey: string, change: Change): Outbound | { problem: string } {
  const row = subject(change) ?? { [primaryKey]: change.id };
  const topic = renderTopic(source.topic, names(source, change.op), row[primaryKey] === undefined ? { ...row, [primaryKey]: change.id } : row);
  if ('problem' in topic) return { problem: `change ${change.position} of ${source.table} ${String(change.id)}: ${topic.problem}` };
  // A retained delete clears the topic's retained message, as an empty retained PUBLISH does.
  const payload = change.op === 'delete' && source.retain ? Buffer.alloc(0) : json(mapRow(source.fields, row));
  return {
    topic: topic.topic,
    payload,
    qos: source.qos,
    retain: source.retain,
    properties: { contentType: 'application/json', userProperties: [['op', change.op], ['table', source.table], ['changeId', String(change.position)]] },
    through: change.position,
    changeTime: change.txnTime,
    rows: [{ id: change.id, changeId: String(change.position) }],
  };
}

function batchMessage(source: SourceDefinition, group: readonly Change[]): Outbound | { problem: string } {
  const topic = renderTopic(source.topic, names(source, ''), null);
  if ('problem' in topic) return { problem: topic.problem };
  const data = group.map((change) => {
    const item: Record<string, unknown> = { op: change.op };
    if (change.op !== 'insert' && change.old) item.old = mapRow(source.fields, change.old);
    if (change.op !== 'delete' && change.new) item.new = mapRow(source.fields, change.new);
    return item;
  });
  const first = group[0]!;
  return {
    topic: topic.topic,
    payload: json({ data }),
    qos: source.qos,
    retain: source.retain,
    properties: { contentType: 'application/json', userProperties: [['table', source.table], ['changeId', String(first.position)], ['rows', String(group.length)]] },
    through: group[group.length - 1]!.position,
    changeTime: first.txnTime,
    rows: group.map((change) => ({ id: change.id, changeId: String(change.position) })),
  };
}

/** Consecutive changes of one transaction (they share its commit time). */
export function byTransaction(changes: readonly Change[]): Change[][] {
  const groups: Change[][] = [];
  for (const change of changes) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.txnTime === change.txnTime) last.push(change);
    else groups.push([change]);
  }
  return groups;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
