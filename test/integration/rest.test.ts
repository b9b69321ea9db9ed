// The tables are useful over REST: retained rows by topic path or table name, readable listings,
// the topic registry and the message history.
import { afterEach, describe, expect, it } from 'vitest';
import { accepted, closeAll, connect, publish, sleep, unique } from '../helpers/mqtt.js';
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
