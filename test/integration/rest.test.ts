// The tables are useful over REST: retained rows by topic path or table name, readable listings,
// the topic registry and the message history.
import { afterEach, describe, expect, it } from 'vitest';
import { accepted, closeAll, connect, connectOnThread, harper, publish, sleep, unique } from '../helpers/mqtt.js';
import { operation } from '../helpers/operations.js';
import { get, request } from '../helpers/rest.js';

afterEach(closeAll);

describe('REST on topic tables', () => {
  it('GET /<topic> returns the retained payload as published, with its content type', async () => {
    const root = unique('rest');
    const client = await connect({ protocolVersion: 5 });
    await publish(client, `${root}/b/c/json`, '{ "a" : 1.50 }', { qos: 1, retain: true });
    await publish(client, `${root}/b/c/text`, 'plain words', { qos: 1, retain: true });
    await publish(client, `${root}/b/c/bin`, Buffer.from([0, 255, 7]), { qos: 1, retain: true });
    await publish(client, `${root}/b/c/csv`, 'a,b\n1,2', { qos: 1, retain: true, properties: { contentType: 'text/csv' } });
    const json = await get(`/${root}/b/c/json`);
    expect(json.status).toBe(200);
    expect(json.contentType).toMatch(/^application\/json/);
    expect(json.body.toString()).toBe('{ "a" : 1.50 }');
    expect((await get(`/${root}/b/c/text`)).contentType).toMatch(/^text\/plain/);
    const binary = await get(`/${root}/b/c/bin`);
    expect(binary.contentType).toMatch(/^application\/octet-stream/);
    expect([...binary.body]).toEqual([0, 255, 7]);
    expect((await get(`/${root}/b/c/csv`)).contentType).toMatch(/^text\/csv/);
  });

  it('GET /<topic> also works for one-level topics, numeric last levels and levels ending like a file type', async () => {
    const solo = unique('solo');
    const root = unique('rest');
    const client = await connect();
    await publish(client, solo, 'one level', { qos: 1, retain: true });
    await publish(client, `${root}/sensors/42`, 'forty-two', { qos: 1, retain: true });
    await publish(client, `${root}/sensors/v1.json`, 'dotted', { qos: 1, retain: true });
    await publish(client, `${root}/sensors/a b`, 'spaced', { qos: 1, retain: true });
    expect((await get(`/${solo}`)).body.toString()).toBe('one level');
    expect((await get(`/${root}/sensors/42`)).body.toString()).toBe('forty-two');
    expect((await get(`/${root}/sensors/v1.json`)).body.toString()).toBe('dotted');
    expect((await get(`/${root}/sensors/a%20b`)).body.toString()).toBe('spaced');
    expect((await get(`/${root}/sensors/nothing`)).status).toBe(404);
  });

  it('GET /<table>/<row> returns the same row, and listings show readable fields', async () => {
    const root = unique('rest');
    const client = await connect({ clientId: `${root}-publisher` });
    await publish(client, `${root}/dev/temp`, '{"c":21.5}', { qos: 1, retain: true });
    await publish(client, `${root}/dev/name`, 'kitchen', { qos: 0, retain: true });
    const [entry] = (await get(`/mqtt_topics/?prefix=${encodeURIComponent(`${root}/dev/`)}`)).json() as Array<{ id: string; path: string }>;
    expect(entry!.path).toBe(`${root}/dev`);
    expect((await get(`/${entry!.id}/temp`)).body.toString()).toBe('{"c":21.5}');
    // The QoS 0 publish has no acknowledgement: wait until its row is written.
    let rows: Array<Record<string, unknown>> = [];
    for (const deadline = Date.now() + 5000; rows.length < 2 && Date.now() < deadline; await sleep(20)) {
      rows = (await get(`/${entry!.id}/`)).json() as Array<Record<string, unknown>>;
    }
    const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
    expect(byId.temp).toMatchObject({
      topic: `${root}/dev/temp`,
      payload: { c: 21.5 },
      format: 'json',
      qos: 1,
      retain: true,
      clientId: `${root}-publisher`,
    });
    expect(byId.name).toMatchObject({ topic: `${root}/dev/name`, payload: 'kitchen', format: 'text', qos: 0 });
    expect(Date.parse(byId.temp!.timestamp as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(byId.temp).not.toHaveProperty('data'); // raw bytes only on request
    expect((await get(`/${root}/dev/`)).json()).toHaveLength(2); // same listing by topic path
  });

  it('is read-only: writes must go through MQTT', async () => {
    const root = unique('rest');
    const client = await connect();
    await publish(client, `${root}/ro/x`, 'v', { qos: 1, retain: true });
    expect(await request('PUT', `/${root}/ro/x`, { hacked: true })).toBe(405);
    expect(await request('DELETE', `/${root}/ro/x`)).toBe(405);
    expect((await get(`/${root}/ro/x`)).body.toString()).toBe('v');
  });
});

describe('REST on the message history', () => {
  it('lists the messages of both threads in exact id order, whichever batches hold them', async () => {
    // Each thread stores its messages in batches of its own; the batches of the two threads
    // overlap in time, and a listing merges them.
    const topic = `${unique('hist')}/merge`;
    const [a, b] = [await connectOnThread(0), await connectOnThread(1)];
    for (let i = 0; i < 30; i++) {
      await Promise.all([publish(a, topic, `a${i}`, { qos: 1 }), publish(b, topic, `b${i}`, { qos: 1 })]);
      if (i % 7 === 0) await sleep(40);
    }
    await accepted(topic, 60);
    const rows = (await get(`/mqtt_history/?topic=${encodeURIComponent(topic)}&sort(-id)&select(id,payload)`)).json() as Array<{ id: string; payload: string }>;
    expect(rows).toHaveLength(60);
    const ids = rows.map((row) => row.id);
    expect(ids).toEqual([...ids].sort().reverse());
    expect(new Set(ids.map((id) => id.split('-')[1]))).toEqual(new Set(['00', '01']));
    // Each client's messages, newest first, in the order it published them.
    expect(rows.filter((row) => row.payload.startsWith('a')).map((row) => row.payload)).toEqual(Array.from({ length: 30 }, (_, i) => `a${29 - i}`));
    const page = (await get(`/mqtt_history/?topic=${encodeURIComponent(topic)}&sort(id)&limit(10,15)&select(id)`)).json() as string[];
    expect(page).toEqual([...ids].reverse().slice(10, 15));
  });

  it('answers one message by id with its exact bytes, and keeps the query language', async () => {
    const topic = `${unique('hist')}/lang`;
    const client = await connect({ protocolVersion: 5 });
    await publish(client, topic, Buffer.from([0, 255, 7]), { qos: 1 });
    await publish(client, topic, 'a,b', { qos: 0, properties: { contentType: 'text/csv' } });
    await publish(client, topic, '{"n":3}', { qos: 1, retain: true });
    await accepted(topic, 3);
    const q = `/mqtt_history/?topic=${encodeURIComponent(topic)}`;
    const rows = (await get(`${q}&sort(id)`)).json() as Array<{ id: string; qos: number; payload: unknown; format: string }>;
    expect(rows.map((row) => [row.qos, row.format, row.payload])).toEqual([[1, 'binary', 'AP8H'], [0, 'text', 'a,b'], [1, 'json', { n: 3 }]]);
    const one = await get(`/mqtt_history/${rows[0]!.id}`);
    expect(one.status).toBe(200);
    expect(one.contentType).toMatch(/^application\/octet-stream/);
    expect([...one.body]).toEqual([0, 255, 7]);
    expect((await get(`/mqtt_history/${rows[0]!.id.slice(0, -1)}z`)).status).toBe(404);
    // select in its three forms, conditions on fields with no index, or-groups, other sorts
    expect((await get(`${q}&sort(id)&select(format)`)).json()).toEqual(['binary', 'text', 'json']);
    expect((await get(`${q}&qos=0&select(contentType,)`)).json()).toEqual([{ contentType: 'text/csv' }]);
    expect((await get(`${q}&retain=true&select([qos,retain])`)).json()).toEqual([[1, true]]);
    expect((await get(`${q}&[format=text|format=json]&sort(-format)&select(format)`)).json()).toEqual(['text', 'json']);
    expect((await get(`${q}&qos=ne=1&select(format)`)).json()).toEqual(['text']);
    // what it cannot answer, it says
    const bad = await get(`${q}&timestamp=gt=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).toContain('timestamp needs a time');
    expect((await get(`${q}&sort(`)).status).toBe(400);
    expect(await request('PUT', `/mqtt_history/${rows[0]!.id}`, { payload: 'forged' })).toBe(405);
  });

  it('lets a user read the history when the role may read its table, and no one else', async () => {
    const info = harper();
    const name = unique('historian').replace(/-/g, '_');
    await operation(info, { operation: 'add_role', role: `${name}_r`, permission: { super_user: false, data_history: { tables: { mqtt_history_batches: { read: true, insert: false, update: false, delete: false, attribute_permissions: [] } } } } });
    await operation(info, { operation: 'add_role', role: `${name}_n`, permission: { super_user: false } });
    await operation(info, { operation: 'add_user', role: `${name}_r`, username: `${name}_reader`, password: 'pw', active: true });
    await operation(info, { operation: 'add_user', role: `${name}_n`, username: `${name}_none`, password: 'pw', active: true });
    const as = (user: string) => ({ authorization: 'Basic ' + Buffer.from(`${user}:pw`).toString('base64') });
    const url = `http://127.0.0.1:${info.ports.http}/mqtt_history/?sort(-id)&limit(1)`;
    const reader = await fetch(url, { headers: as(`${name}_reader`) });
    expect(reader.status).toBe(200);
    expect(Array.isArray(await reader.json())).toBe(true);
    expect((await fetch(url, { headers: as(`${name}_none`) })).status).toBe(403);
  });

  it('answers "last N messages of a topic", newest first (ids sort by time)', async () => {
    const topic = `${unique('hist')}/meter`;
    const client = await connect();
    for (let i = 1; i <= 5; i++) await publish(client, topic, `{"n":${i}}`, { qos: 1, retain: i === 5 });
    await accepted(topic, 5); // history rows are written just behind the messages
    const url = `/mqtt_history/?topic=${encodeURIComponent(topic)}&sort(-id)&limit(3)`;
    const last = (await get(url)).json() as Array<{ payload: { n: number }; retain: boolean; qos: number }>;
    expect(last.map((row) => row.payload.n)).toEqual([5, 4, 3]);
    expect(last[0]).toMatchObject({ retain: true, qos: 1 });
  });

  it('answers time-range queries', async () => {
    const topic = `${unique('hist')}/range`;
    const client = await connect();
    await publish(client, topic, 'early', { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const from = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await publish(client, topic, 'late', { qos: 1 });
    await accepted(topic, 2);
    // ':' is HarperDB's type separator in query values, so ISO dates are URL-encoded.
    const url = `/mqtt_history/?topic=${encodeURIComponent(topic)}&timestamp=gt=${encodeURIComponent(from)}`;
    expect(((await get(url)).json() as Array<{ payload: string }>).map((row) => row.payload)).toEqual(['late']);
    // The forms docs/rest.md shows: epoch ms bounds, and newest first by timestamp.
    const epoch = `/mqtt_history/?topic=${encodeURIComponent(topic)}&timestamp=ge=${Date.parse(from)}&timestamp=lt=${Date.now() + 60_000}`;
    expect(((await get(epoch)).json() as Array<{ payload: string }>).map((row) => row.payload)).toEqual(['late']);
    const before = `/mqtt_history/?topic=${encodeURIComponent(topic)}&timestamp=lt=${Date.parse(from)}`;
    expect(((await get(before)).json() as Array<{ payload: string }>).map((row) => row.payload)).toEqual(['early']);
    const newest = `/mqtt_history/?topic=${encodeURIComponent(topic)}&sort(-timestamp)`;
    expect(((await get(newest)).json() as Array<{ payload: string }>).map((row) => row.payload)).toEqual(['late', 'early']);
    // A field with no index, alone: what one client published.
    const byClient = `/mqtt_history/?clientId=${encodeURIComponent(client.options.clientId!)}&sort(-id)`;
    expect(((await get(byClient)).json() as Array<{ payload: string }>).map((row) => row.payload)).toEqual(['late', 'early']);
    // Over all topics, with no condition: newest first.
    const all = (await get('/mqtt_history/?sort(-timestamp)&limit(5)')).json() as Array<{ timestamp: string }>;
    expect(all).toHaveLength(5);
    const times = all.map((row) => Date.parse(row.timestamp));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('lists known topic prefixes and their tables (created by the first retained message)', async () => {
    const root = unique('listing');
    const client = await connect();
    await publish(client, `${root}/a/b`, 'x', { qos: 1, retain: true });
    const rows = (await get('/mqtt_topics/')).json() as Array<{ id: string; prefix: string; path: string | null; database: string }>;
    expect(rows.find((row) => row.prefix === `${root}/a/`)).toMatchObject({ path: `${root}/a`, database: 'data' });
  });
});
