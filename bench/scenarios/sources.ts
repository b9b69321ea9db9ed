// Sources under load (issue 9, seed 002): 4 source tables, 10,000 monitors, rows inserted through
// HarperDB's operations API as fast as it takes them; every change published at
// data/{table}/{MonitorId} to a `data/#` subscriber. Reports rows/s committed, messages/s
// delivered, their ratio, and the lag from a row's write request to its delivery (p50/p99/max).
// With `kill`, HarperDB is killed (-9) halfway and restarted, and the message log is counted for
// exactly one message per row.
import { performance } from 'node:perf_hooks';
import type { HarperInstance } from '../../src/cli/instance.js';
import { BenchClient } from '../client.js';
import { percentiles, round, type Percentiles } from '../stats.js';

export const SOURCE_TABLES = ['TableA', 'TableB', 'TableC', 'TableD'];
export const BENCH_SOURCES = SOURCE_TABLES.map((table) => ({ name: table, table, topic: 'data/{table}/{MonitorId}', qos: 1 }));

export interface SourcesResult {
  tables: number;
  monitors: number;
  seconds: number;
  rowsCommitted: number;
  rowsPerSecond: number;
  messagesDelivered: number;
  messagesPerSecond: number;
  deliveredRatio: number;
  /** From a row's write request being sent to the subscriber receiving its message. */
  lagMs: Percentiles;
  /** From the write request's answer (the commit acknowledged) to the delivery; negative: delivered first. */
  lagAfterCommitMs: Percentiles;
  /** The same rows again, published from the audit log by sources added afterwards (backfill): the publishing capacity without the insert rate as a limit. */
  backfill?: { messages: number; seconds: number; messagesPerSecond: number };
  /** With kill: rows with no message / with more than one in the message log. */
  exactlyOnce?: { rows: number; missing: number; duplicated: number };
}

interface Options {
  seconds: number;
  monitors: number;
  rowsPerRequest: number;
  kill: boolean;
  log: (message: string) => void;
}

async function operation(instance: HarperInstance, body: object): Promise<any> {
  const { ports, adminUser, adminPassword } = instance.info;
  const response = await fetch(`http://127.0.0.1:${ports.operations}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64') },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

export async function sources(instance: HarperInstance, options: Options): Promise<SourcesResult> {
  for (const table of SOURCE_TABLES) await operation(instance, { operation: 'create_table', database: 'data', table, primary_key: 'id' });
  const writtenAt = new Map<string, number>();
  const committedAt = new Map<string, number>();
  const deliveredAt = new Map<string, number>();
  let delivered = 0;
  const subscribe = async () => {
    const client = await BenchClient.connect(instance.info.ports.mqtt, `sources-sub-${Date.now()}`);
    client.listen((_topic, payload) => {
      delivered++;
      deliveredAt.set((JSON.parse(payload.toString()) as { id: string }).id, performance.now());
    });
    await client.subscribe('data/#', 0);
  };
  await subscribe();
  let committed = 0;
  let sequence = 0;
  let stopAt = performance.now() + options.seconds * 1000;
  const writer = (table: string) => async () => {
    while (performance.now() < stopAt) {
      const records = Array.from({ length: options.rowsPerRequest }, () => {
        const n = sequence++;
        return { id: `${table}-${n}`, MonitorId: `M${String(n % options.monitors).padStart(5, '0')}`, Value: n % 100 };
      });
      const at = performance.now();
      for (const record of records) writtenAt.set(record.id, at);
      try {
        await operation(instance, { operation: 'insert', database: 'data', table, records });
        committed += records.length;
        const acknowledged = performance.now();
        for (const record of records) committedAt.set(record.id, acknowledged);
      } catch {
        for (const record of records) writtenAt.delete(record.id);
        await new Promise((resolve) => setTimeout(resolve, 100)); // overloaded (503) or down: back off
      }
    }
  };
  const start = performance.now();
  const startedAt = Date.now();
  const writing = Promise.all(SOURCE_TABLES.map((table) => writer(table)()));
  if (options.kill) {
    await new Promise((resolve) => setTimeout(resolve, (options.seconds * 1000) / 2));
    options.log('kill -9 halfway');
    await instance.kill();
    await instance.start();
    stopAt = Math.max(stopAt, performance.now() + (options.seconds * 1000) / 2);
    await subscribe();
  }
  await writing;
  const writeSeconds = (performance.now() - start) / 1000;
  const deadline = performance.now() + 60_000;
  while (delivered < committed && performance.now() < deadline && !options.kill) await new Promise((resolve) => setTimeout(resolve, 50));
  const deliverSeconds = (performance.now() - start) / 1000;
  options.log(`${committed} rows committed in ${round(writeSeconds, 1)} s, ${delivered} messages delivered in ${round(deliverSeconds, 1)} s`);
  const result: SourcesResult = {
    tables: SOURCE_TABLES.length,
    monitors: options.monitors,
    seconds: round(writeSeconds, 1),
    rowsCommitted: committed,
    rowsPerSecond: round(committed / writeSeconds, 0),
    messagesDelivered: delivered,
    messagesPerSecond: round(delivered / deliverSeconds, 0),
    deliveredRatio: round(delivered / Math.max(1, committed), 3),
    lagMs: percentiles(lagsFrom(writtenAt, deliveredAt)),
    lagAfterCommitMs: percentiles(lagsFrom(committedAt, deliveredAt)),
  };
  if (options.kill) result.exactlyOnce = await countLogged(instance);
  else result.backfill = await backfill(instance, startedAt - 1000, committed);
  return result;
}

/**
 * Adds one source per table reading from `from`, and times until their status counts `expected`
 * messages published (committed and routed; a QoS 0 subscriber of a burst this size would have
 * QoS 0 messages dropped past maxQueued, so the sources' own count is the measure).
 */
async function backfill(instance: HarperInstance, from: number, expected: number): Promise<SourcesResult['backfill']> {
  const { ports, adminUser, adminPassword } = instance.info;
  const request = async (method: string, path: string, body?: object) => {
    const response = await fetch(`http://127.0.0.1:${ports.http}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64') },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<any>;
  };
  const start = performance.now();
  for (const table of SOURCE_TABLES) await request('POST', '/mqtt_sources/', { name: `replay-${table}`, table, topic: 'replay/{table}/{MonitorId}', qos: 1, from });
  const published = async () => ((await request('GET', '/mqtt_sources/')) as Array<{ name: string; published?: number }>).filter((s) => s.name.startsWith('replay-')).reduce((sum, s) => sum + (s.published ?? 0), 0);
  const deadline = performance.now() + 120_000;
  let messages = 0;
  while ((messages = await published()) < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  const seconds = (performance.now() - start) / 1000;
  return { messages, seconds: round(seconds, 2), messagesPerSecond: round(messages / seconds, 0) };
}

function lagsFrom(from: Map<string, number>, to: Map<string, number>): number[] {
  const lags: number[] = [];
  for (const [id, at] of to) {
    const start = from.get(id);
    if (start !== undefined) lags.push(at - start);
  }
  return lags;
}

/** Every row of the source tables against the messages the message log holds for them. */
async function countLogged(instance: HarperInstance): Promise<{ rows: number; missing: number; duplicated: number }> {
  const counts = new Map<string, number>();
  const logged = (await operation(instance, { operation: 'sql', sql: 'SELECT messages FROM data.mqtt_log' })) as Array<{ messages: Array<{ payload: { data: number[] } | string }> }>;
  for (const row of logged) {
    for (const message of row.messages) {
      const bytes = typeof message.payload === 'string' ? message.payload : Buffer.from(message.payload.data).toString();
      const id = (JSON.parse(bytes) as { id: string }).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  let rows = 0;
  let missing = 0;
  for (const table of SOURCE_TABLES) {
    for (const { id } of (await operation(instance, { operation: 'sql', sql: `SELECT id FROM data.${table}` })) as Array<{ id: string }>) {
      rows++;
      if (!counts.has(id)) missing++;
    }
  }
  return { rows, missing, duplicated: [...counts.values()].filter((n) => n > 1).length };
}
