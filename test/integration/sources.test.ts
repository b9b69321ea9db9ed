// Sources: changes of HarperDB tables published as MQTT messages, configured not coded, exactly
// once across restarts and kill -9; and the publish API for code inside HarperDB and for scripts.
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, quietPeriod, record, sleep, subscribe, unique, waitFor, type Received } from '../helpers/mqtt.js';
import { operation } from '../helpers/operations.js';

afterEach(closeAll);

const SOURCES = [
  { name: 'TableA', table: 'TableA', topic: 'data/{table}/{MonitorId}', qos: 1 },
  { name: 'hot', table: 'TableA', topic: 'alerts/{MonitorId}', operations: ['insert', 'update'], filter: { field: 'Value', gt: 40 }, fields: { MonitorId: 'monitor', Value: 'value' } },
  { name: 'orders-batch', table: 'Orders', mode: 'batch', topic: 'erp/{table}/batch', fields: { id: 'id', status: 'state' }, qos: 1 },
  { name: 'late', table: 'LateTable', topic: 'late/{id}/{op}', qos: 1 },
  { name: 'state', table: 'TableA', topic: 'state/{MonitorId}', retain: true, fields: ['Value', 'Status'] },
  { name: 'bad-template', table: 'TableB', topic: 'x/{nope' },
  { name: 'bad-qos', table: 'TableC', topic: 'c/{id}', qos: 3 },
  { name: 'bad-field', table: 'TableA', topic: 'data/{NoSuchField}' },
];

const text = (m: Received) => m.payload.toString();
const props = (m: Received) => (m.packet.properties?.userProperties ?? {}) as Record<string, string>;

describe('sources', () => {
  const instance = ownInstance({ threads: 2, apps: ['test/fixtures/sources-app'], env: { MQTT_BRIDGE_SOURCES: JSON.stringify(SOURCES) } });
  const info = () => instance().info;
  const op = (body: object) => operation(info(), body);
  const http = () => `http://127.0.0.1:${info().ports.http}`;
  const json = async (path: string, init?: RequestInit) => {
    const response = await fetch(http() + path, init);
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };
  const post = (path: string, body: unknown) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const watch = async (filter: string | string[]): Promise<{ client: MqttClient; received: Received[] }> => {
    const client = await connect({ port: info().ports.mqtt, protocolVersion: 5 });
    const received = record(client);
    await subscribe(client, filter, { qos: 1 });
    return { client, received };
  };

  it('publishes each insert, update and delete of a row at its template topic, with the whole row', async () => {
    const monitor = unique('M');
    const { received } = await watch(`data/TableA/${monitor}`);
    await op({ operation: 'insert', database: 'data', table: 'TableA', records: [{ id: `${monitor}-1`, MonitorId: monitor, Value: 12.5, Status: 'ok' }] });
    await op({ operation: 'update', database: 'data', table: 'TableA', records: [{ id: `${monitor}-1`, MonitorId: monitor, Value: 13, Status: 'ok' }] });
    await op({ operation: 'delete', database: 'data', table: 'TableA', ids: [`${monitor}-1`] });
    await waitFor(() => received.length === 3, 'three messages');
    expect(received.map((m) => [m.topic, JSON.parse(text(m)), props(m).op, props(m).table])).toEqual([
      [`data/TableA/${monitor}`, { id: `${monitor}-1`, MonitorId: monitor, Value: 12.5, Status: 'ok' }, 'insert', 'TableA'],
      [`data/TableA/${monitor}`, { id: `${monitor}-1`, MonitorId: monitor, Value: 13, Status: 'ok' }, 'update', 'TableA'],
      [`data/TableA/${monitor}`, { id: `${monitor}-1`, MonitorId: monitor, Value: 13, Status: 'ok' }, 'delete', 'TableA'],
    ]);
    expect(received.map((m) => m.qos)).toEqual([1, 1, 1]);
  });

  it('publishes only rows the filter passes, with the mapped fields', async () => {
    const monitor = unique('H');
    const { received } = await watch(`alerts/${monitor}`);
    await op({ operation: 'insert', database: 'data', table: 'TableA', records: [
      { id: `${monitor}-cool`, MonitorId: monitor, Value: 20 },
      { id: `${monitor}-hot`, MonitorId: monitor, Value: 41.5 },
    ] });
    await op({ operation: 'update', database: 'data', table: 'TableA', records: [{ id: `${monitor}-cool`, MonitorId: monitor, Value: 55 }] });
    await waitFor(() => received.length === 2, 'two alerts');
    await quietPeriod();
    expect(received.map((m) => JSON.parse(text(m)))).toEqual([
      { monitor, value: 41.5 },
      { monitor, value: 55 },
    ]);
  });

  it('keeps a row\'s last state as the retained message of its topic, and a delete clears it', async () => {
    const monitor = unique('S');
    await op({ operation: 'insert', database: 'data', table: 'TableA', records: [{ id: `${monitor}-1`, MonitorId: monitor, Value: 1, Status: 'ok' }] });
    await op({ operation: 'update', database: 'data', table: 'TableA', records: [{ id: `${monitor}-1`, MonitorId: monitor, Value: 2, Status: 'warn' }] });
    await waitFor(async () => (await fetch(`${http()}/state/${monitor}`)).status === 200, 'the retained row');
    await waitFor(async () => (await (await fetch(`${http()}/state/${monitor}`)).text()) === '{"Value":2,"Status":"warn"}', 'the last state');
    const late = await watch(`state/${monitor}`);
    await waitFor(() => late.received.length === 1, 'the retained message');
    expect([text(late.received[0]!), late.received[0]!.retain]).toEqual(['{"Value":2,"Status":"warn"}', true]);
    await op({ operation: 'delete', database: 'data', table: 'TableA', ids: [`${monitor}-1`] });
    // Subscribers see the delete as an empty message (like any empty retained PUBLISH); new ones get nothing.
    await waitFor(() => late.received.length === 2, 'the delete');
    expect([text(late.received[1]!), props(late.received[1]!).op]).toEqual(['', 'delete']);
    expect((await fetch(`${http()}/state/${monitor}`)).status).toBe(404);
    const later = await watch(`state/${monitor}`);
    await quietPeriod();
    expect(later.received).toEqual([]);
  });

  it('publishes one message per transaction in batch mode, with old and new rows', async () => {
    const { received } = await watch('erp/Orders/batch');
    const a = unique('o');
    const b = unique('o');
    await op({ operation: 'insert', database: 'data', table: 'Orders', records: [{ id: a, status: 'new', amount: 1 }, { id: b, status: 'new', amount: 2 }] });
    await op({ operation: 'update', database: 'data', table: 'Orders', records: [{ id: a, status: 'paid', amount: 1 }] });
    await op({ operation: 'delete', database: 'data', table: 'Orders', ids: [b] });
    await waitFor(() => received.length === 3, 'three batch messages');
    await quietPeriod();
    expect(received.map((m) => JSON.parse(text(m)))).toEqual([
      { data: [{ op: 'insert', new: { id: a, state: 'new' } }, { op: 'insert', new: { id: b, state: 'new' } }] },
      { data: [{ op: 'update', old: { id: a, state: 'new' }, new: { id: a, state: 'paid' } }] },
      { data: [{ op: 'delete', old: { id: b, state: 'new' } }] },
    ]);
    expect(received.map((m) => props(m).rows)).toEqual(['2', '1', '1']);
  });

  it('refuses bad entries with a message naming them, and runs the others', async () => {
    const { status, body } = await json('/mqtt_sources/');
    expect(status).toBe(200);
    const byName = Object.fromEntries((body as any[]).map((s) => [s.name, s]));
    expect(byName['bad-template']).toEqual({ name: 'bad-template', origin: 'config', state: 'refused', error: 'MQTT_BRIDGE_SOURCES: sources[5] (bad-template): topic "x/{nope": "{" at 2 is not closed' });
    expect(byName['bad-qos']).toEqual({ name: 'bad-qos', origin: 'config', state: 'refused', error: 'MQTT_BRIDGE_SOURCES: sources[6] (bad-qos): qos must be 0, 1 or 2, got 3' });
    expect([byName['bad-field'].state, byName['bad-field'].error]).toEqual([
      'refused',
      'topic "data/{NoSuchField}": table data.TableA has no field "NoSuchField" (fields: id, MonitorId, Value, Status)',
    ]);
    expect(byName['late'].state).toBe('waiting for table');
    expect(byName['TableA'].state).toBe('running');
    expect(await post('/mqtt_sources/', { table: 'TableA', topic: 'x/{id}', mode: 'sometimes' })).toEqual({
      status: 400,
      body: 'HttpError: source (TableA): mode must be "event" (a message per row) or "batch" (a message per transaction), got "sometimes"',
    });
    expect(await post('/mqtt_sources/', { name: 'TableA', table: 'Orders', topic: 'x/{id}' })).toEqual({ status: 409, body: 'HttpError: source TableA is defined in config.yaml; change it there' });
  });

  it('adds and removes a source at runtime, and reports its status and what it sent', async () => {
    const name = unique('rt');
    const { received } = await watch(`rt/${name}/#`);
    const added = await post('/mqtt_sources/', { name, table: 'Orders', topic: `rt/${name}/{id}/{op}`, fields: ['amount'], operations: ['insert', 'update'], track: true });
    expect([added.status, added.body.name, added.body.origin]).toEqual([200, name, 'runtime']);
    await waitFor(async () => (await json(`/mqtt_sources/${name}`)).body.state === 'running', 'the source to run', 10_000);
    const id = unique('o');
    await op({ operation: 'insert', database: 'data', table: 'Orders', records: [{ id, status: 'new', amount: 7 }] });
    await waitFor(() => received.length === 1, 'the runtime source message', 10_000);
    expect([received[0]!.topic, text(received[0]!), received[0]!.qos]).toEqual([`rt/${name}/${id}/insert`, '{"amount":7}', 1]);
    const status = await waitFor(async () => {
      const { body } = await json(`/mqtt_sources/${name}`);
      return body.caughtUp ? body : false;
    }, 'the source to be caught up');
    expect([status.published, status.skipped, status.caughtUp, status.lagMs, status.lastError]).toEqual([1, 0, true, 0, undefined]);
    const sent = (await json(`/mqtt_sent/?table=Orders&id=${id}`)).body as any[];
    const mine = sent.find((r) => r.source === name);
    expect([mine.published, mine.op, mine.topic, mine.changeId]).toEqual([true, 'insert', `rt/${name}/${id}/insert`, props(received[0]!).changeId]);
    expect(Date.parse(mine.publishedAt)).toBeGreaterThanOrEqual(Date.parse(mine.changedAt));
    // track: true keeps seed 002's tracking row, written with the message.
    const [tracked] = await op({ operation: 'sql', sql: `SELECT id, source, rowId, topic, changeId, sentAt FROM data.mqtt_source_sent WHERE id = '${name}/${id}'` });
    expect(tracked).toEqual({ id: `${name}/${id}`, source: name, rowId: id, topic: `rt/${name}/${id}/insert`, changeId: mine.changeId, sentAt: mine.publishedAt });

    expect((await json(`/mqtt_sources/${name}`, { method: 'DELETE' })).status).toBe(200);
    await waitFor(async () => (await json(`/mqtt_sources/${name}`)).status === 404, 'the source to go');
    await sleep(1000);
    await op({ operation: 'update', database: 'data', table: 'Orders', records: [{ id, status: 'paid', amount: 8 }] });
    await quietPeriod();
    expect(received.length).toBe(1);
  });

  it('starts a source whose table is created after start, from the table\'s first row', async () => {
    const { received } = await watch('late/#');
    await op({ operation: 'create_table', database: 'data', table: 'LateTable', primary_key: 'id' });
    // The operations API thread may see the new table a moment after create_table answers.
    await waitFor(() => op({ operation: 'insert', database: 'data', table: 'LateTable', records: [{ id: 'first', n: 1 }] }).then(() => true, () => false), 'the insert', 10_000);
    await waitFor(() => received.length === 1, 'the first row of the new table', 10_000);
    // The whole row as HarperDB keeps it, with the timestamps it adds to a table without a schema.
    // '*' is the attributes the operations thread knows: it may learn of the new `n` a moment later.
    const row = await waitFor(async () => {
      const [found] = await op({ operation: 'search_by_id', database: 'data', table: 'LateTable', ids: ['first'], get_attributes: ['*'] });
      return 'n' in found && found;
    }, 'the row with every attribute over the operations API');
    expect(Object.keys(row).sort()).toEqual(['__createdtime__', '__updatedtime__', 'id', 'n']);
    expect([received[0]!.topic, JSON.parse(text(received[0]!))]).toEqual(['late/first/insert', row]);
  });

  it('publishes for scripts over REST, authorized like an MQTT publish', async () => {
    const topic = `${unique('rest')}/cmd`;
    const { received } = await watch(topic);
    expect(await post('/mqtt_publish/', { topic, payload: { go: true }, qos: 1, properties: { userProperties: { by: 'script' } } })).toEqual({ status: 200, body: { published: topic } });
    await waitFor(() => received.length === 1, 'the REST message');
    expect([text(received[0]!), received[0]!.qos, props(received[0]!).by]).toEqual(['{"go":true}', 1, 'script']);
    const bad = await fetch(`${http()}/mqtt_publish/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'a/+/b', payload: 'x' }) });
    expect(bad.status).toBe(400);
    await op({ operation: 'add_role', role: 'reader_only', permission: { data: { tables: {} } } });
    await op({ operation: 'add_user', username: 'limited', password: 'limited-pw', role: 'reader_only', active: true });
    const denied = await fetch(`${http()}/mqtt_publish/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('limited:limited-pw').toString('base64') },
      body: JSON.stringify({ topic, payload: 'not yours' }),
    });
    expect([denied.status, await denied.json()]).toEqual([403, `HttpError: not allowed to publish to ${topic}`]);
  });

  it('publishes from another component\'s code: one message, and a batch', async () => {
    const prefix = unique('app');
    const { received } = await watch(`${prefix}/#`);
    expect((await post('/app_publish/', { topic: `${prefix}/hourly`, payload: { avg: 21.5, count: 60 }, qos: 1, retain: true })).status).toBe(200);
    expect((await post('/app_publish/', { prefix: `${prefix}/sync`, batch: ['a', { topic: 'b', payload: { n: 2 } }] })).status).toBe(200);
    await waitFor(() => received.length === 3, 'three messages from the app');
    expect(received.map((m) => [m.topic, text(m), m.retain])).toEqual([
      [`${prefix}/hourly`, '{"avg":21.5,"count":60}', false],
      [`${prefix}/sync`, 'a', false],
      [`${prefix}/sync/b`, '{"n":2}', false],
    ]);
    // A bad topic throws in the caller's code, and a batch with one publishes none.
    expect((await post('/app_publish/', { topic: `${prefix}/+/x`, payload: 'no' })).body).toEqual({ ok: false, error: 'topic name must not contain wildcards' });
    expect((await post('/app_publish/', { prefix: `${prefix}/sync`, batch: [{ topic: 'fine', payload: 1 }, { topic: '#', payload: 2 }] })).body).toEqual({ ok: false, error: 'topic name must not contain wildcards' });
    await quietPeriod();
    expect(received.length).toBe(3);
    const late = await watch(`${prefix}/hourly`);
    await waitFor(() => late.received.length === 1, 'the retained message');
    expect(text(late.received[0]!)).toBe('{"avg":21.5,"count":60}');
  });
});

describe('sources across kill -9 and restart', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_SOURCES: JSON.stringify([{ name: 'crash', table: 'Crash', topic: 'crash/{id}', qos: 1 }]) } });
  const op = <T = any>(body: object) => operation<T>(instance().info, body);

  /** Inserts rows r0..r{total-1}, 25 per transaction, retrying a batch while HarperDB is down; can pause between batches. */
  function produce(total: number): { done: Promise<void>; inserted: () => number; pause: () => Promise<void>; resume: () => void } {
    let next = 0;
    const gate: { paused: { idle: () => void; resumed: Promise<void> } | null; resume: () => void } = { paused: null, resume: () => undefined };
    const done = (async () => {
      while (next < total) {
        const paused = gate.paused;
        if (paused) {
          paused.idle();
          await paused.resumed;
        }
        const records = Array.from({ length: Math.min(25, total - next) }, (_, i) => ({ id: `r${next + i}`, value: next + i }));
        try {
          await op({ operation: 'upsert', database: 'data', table: 'Crash', records });
          next += records.length;
        } catch {
          await sleep(200); // down: try the same rows again (upsert: a committed one is just written again)
        }
      }
    })();
    return {
      done,
      inserted: () => next,
      /** Resolves once the producer waits between two batches. */
      pause: () =>
        new Promise<void>((idle) => {
          const resumed = new Promise<void>((resolve) => (gate.resume = resolve));
          gate.paused = { idle, resumed };
        }),
      resume: () => {
        gate.paused = null;
        gate.resume();
      },
    };
  }

  /** Waits until the HarperDB process is gone (it killed itself at the crash point). */
  async function died(pid: number | undefined): Promise<void> {
    await waitFor(() => {
      try {
        process.kill(pid!, 0);
        return false;
      } catch {
        return true;
      }
    }, 'HarperDB to kill itself at the crash point', 60_000);
  }

  /** Messages per topic under `prefix` in the message log: what was published, durably. */
  async function logged(prefix: string): Promise<Map<string, number>> {
    const rows = await op<Array<{ messages: Array<{ topic: string }> }>>({ operation: 'sql', sql: 'SELECT messages FROM data.mqtt_log' });
    const counts = new Map<string, number>();
    for (const { topic } of rows.flatMap((row) => row.messages)) if (topic.startsWith(prefix)) counts.set(topic, (counts.get(topic) ?? 0) + 1);
    return counts;
  }
  const http = () => `http://127.0.0.1:${instance().info.ports.http}`;

  it('publishes every committed change exactly once across kill -9 (also right after messages commit), restarted worker threads and a restart, mid-stream', async () => {
    await op({ operation: 'create_table', database: 'data', table: 'Crash', primary_key: 'id' });
    // A second source of the table, added at runtime: it must come back after each restart too.
    const added = await fetch(`${http()}/mqtt_sources/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crash-rt', table: 'Crash', topic: 'crashrt/{id}', qos: 0 }) });
    expect(added.status).toBe(200);
    const total = 3000;
    const producer = produce(total);
    await waitFor(() => producer.inserted() >= 800, 'the first rows', 30_000);
    await instance().kill();
    // Next, the worst moment: HarperDB dies right after a chunk of messages commits, before anything else is written.
    await producer.pause();
    await instance().start({ MQTT_BRIDGE_TEST_CRASH_AFTER_CHUNKS: '3' });
    producer.resume();
    await died(instance().pid);
    await instance().start();
    await waitFor(() => producer.inserted() >= 1600, 'rows after the crashes', 60_000);
    // HarperDB replaces its worker threads (overlapping old and new): the lease keeps one publisher.
    await op({ operation: 'restart_service', service: 'http_workers' });
    await waitFor(() => producer.inserted() >= 2200, 'rows after the worker threads restarted', 60_000);
    await instance().restart();
    await producer.done;
    // A batch retried after the crash (its commit made it, its answer did not) wrote its rows twice:
    // two changes, two messages. Exactly once means: per row, as many messages as committed changes.
    const rows = await op<Array<{ id: string }>>({ operation: 'sql', sql: 'SELECT id FROM data.Crash' });
    expect(rows.length).toBe(total);
    const changes = await changesPerRow(op);
    for (const [name, prefix] of [['crash', 'crash/'], ['crash-rt', 'crashrt/']]) {
      const expected = [...changes].map(([id, n]) => [`${prefix}${id}`, n] as const).sort();
      const published = await waitFor(async () => {
        const counts = await logged(prefix!);
        return counts.size === total ? counts : false;
      }, `a message of ${name} for every row`, 60_000);
      expect([...published].sort()).toEqual(expected);
      const status = (await (await fetch(`${http()}/mqtt_sources/${name}`)).json()) as { published: number };
      expect(status.published).toBe(expected.reduce((sum, [, n]) => sum + n, 0));
    }
  }, 240_000);
});

/** Committed changes per row id of data.Crash, from HarperDB's audit log. */
async function changesPerRow(op: (body: object) => Promise<any>): Promise<Map<string, number>> {
  const entries = (await op({ operation: 'read_audit_log', schema: 'data', table: 'Crash' })) as Array<{ hash_values?: string[] }>;
  const counts = new Map<string, number>();
  for (const entry of entries) for (const id of entry.hash_values ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
