// The history is stored as batch records: one record holds the messages one thread recorded within
// BATCH_SPAN_MS (up to BATCH_MAX of them). A HarperDB `put` per message cost about 35 µs of the
// machine (docs/performance.md), more than routing the message; one per batch costs a few µs per
// message. Readers see one row per message (reader.ts), with the ids the messages always had.
import { historyId, idAt, idTime } from './ids.js';
import type { BusMessage } from '../messages.js';

/** Every message of a batch is accepted within this many ms of its first (what readers rely on). */
export const BATCH_SPAN_MS = 100;
export const BATCH_MAX = 250;

/** A message as a batch record stores it: the bus message (never a membership notice). */
export type StoredMessage = Omit<BusMessage, 'membership'>;

export interface BatchRecord {
  /** `<id of its first message>.<message count in base 36>`: counting rows needs the keys only. */
  id: string;
  /** Distinct topics, indexed: a topic's batches are found without reading the others. */
  topics: string[];
  messages: StoredMessage[];
}

/** A message waiting to be written, with the sequence number of its id. */
export interface Recorded {
  sequence: number;
  message: BusMessage;
}

export function batchKey(firstId: string, count: number): string {
  return `${firstId}.${count.toString(36)}`;
}

/** The first message's id and the message count of a batch key; null for a key of another form. */
export function parseBatchKey(key: string): { firstId: string; count: number } | null {
  const dot = key.lastIndexOf('.');
  if (dot < 0) return null;
  const count = parseInt(key.slice(dot + 1), 36);
  return Number.isFinite(count) ? { firstId: key.slice(0, dot), count } : null;
}

function stored(message: BusMessage): StoredMessage {
  const kept: StoredMessage = { topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, clientId: message.clientId, timestamp: message.timestamp };
  if (message.properties) kept.properties = message.properties;
  return kept;
}

/**
 * Batch records of one thread's recorded messages, in the order they were recorded. A batch ends
 * at BATCH_MAX messages, or at a message accepted BATCH_SPAN_MS or more after its first (or before
 * it): so every message id of a batch is at or after the batch's first id and less than
 * BATCH_SPAN_MS later, the bound readers use to merge batches into one id order.
 */
export function batchesOf(items: readonly Recorded[], thread: number): BatchRecord[] {
  const batches: BatchRecord[] = [];
  let first: Recorded | undefined;
  let messages: StoredMessage[] = [];
  let topics = new Set<string>();
  const close = (): void => {
    if (!first) return;
    batches.push({ id: batchKey(historyId(first.message.timestamp, thread, first.sequence), messages.length), topics: [...topics], messages });
  };
  for (const item of items) {
    const time = item.message.timestamp;
    const start = first?.message.timestamp;
    if (start === undefined || messages.length >= BATCH_MAX || time < start || time >= start + BATCH_SPAN_MS || item.sequence !== first!.sequence + messages.length) {
      close();
      first = item;
      messages = [];
      topics = new Set();
    }
    messages.push(stored(item.message));
    topics.add(item.message.topic);
  }
  close();
  return batches;
}

/** The id of each message of a batch (its thread and first sequence come from the key). */
export function messageIds(key: string, messages: readonly { timestamp: number }[]): string[] {
  const parsed = parseBatchKey(key);
  if (!parsed) return [];
  const [, thread, sequence] = parsed.firstId.split('-');
  const threadIndex = parseInt(thread ?? '', 36);
  const first = parseInt(sequence ?? '', 36);
  return messages.map((message, index) => historyId(message.timestamp, threadIndex, first + index));
}

/** Lowest batch key that may hold a message with an id at or after `id`. */
export function firstBatchFor(id: string): string {
  const time = idTime(id);
  return Number.isFinite(time) ? idAt(Math.max(0, time - BATCH_SPAN_MS)) : id;
}

/**
 * The bound below which batch keys (`<first id>.<count>`) have a first id below `to`. An inclusive
 * bound (`id + '\u0000'`) becomes `id + '/'`: '/' sorts right after '.', below every base-36 digit.
 */
export function batchesBefore(to: string): string {
  return to.endsWith('\u0000') ? to.slice(0, -1) + '/' : to;
}

/**
 * Rows of batches read in key order, in exact id order. Reading newest first, a batch that starts
 * at t holds nothing at or after t + BATCH_SPAN_MS, and neither does any batch read after it: rows
 * from there on are final. Reading oldest first, no later batch holds an id below this one's first.
 */
export async function* inIdOrder<R extends { id: string }>(batches: AsyncIterable<{ key: string; rows: R[] }>, descending: boolean): AsyncIterable<R> {
  let held: R[] = [];
  const byId = descending ? (a: R, b: R) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : (a: R, b: R) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  for await (const { key, rows } of batches) {
    const first = parseBatchKey(key)?.firstId ?? key;
    held.push(...rows);
    held.sort(byId);
    const bound = descending ? idAt(idTime(first) + BATCH_SPAN_MS) : first;
    const final = descending ? held.findIndex((row) => row.id < bound) : held.findIndex((row) => row.id >= bound);
    const ready = final === -1 ? held.length : final;
    for (let i = 0; i < ready; i++) yield held[i]!;
    held = held.slice(ready);
  }
  yield* held;
}
