// Any topic works: a table per level, distinct tables for look-alike names, odd but valid topics.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { get } from '../helpers/rest.js';

afterEach(closeAll);

async function tableOf(prefix: string): Promise<string | undefined> {
  const rows = (await get(`/mqtt_topics/?prefix=${encodeURIComponent(prefix)}`)).json() as Array<{ id: string }>;
  return rows[0]?.id;
}

describe('topics and tables', () => {
  it('delivers messages published before and after a subscription to a new topic', async () => {
    const root = unique('order');
    const publisher = await connect();
    await publish(publisher, `${root}/test/temp`, 'before', { qos: 1 });
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, `${root}/test/#`);
    await publish(publisher, `${root}/test/humidity`, 'after', { qos: 1 });
    await waitFor(() => received.length >= 1, 'the message published after subscribing');
    await quietPeriod();
    // The first was not retained, so only the second arrives.
    expect(received.map((m) => [m.topic, m.payload.toString()])).toEqual([[`${root}/test/humidity`, 'after']]);
  });

  it('gives every topic level its own table', async () => {
    const root = unique('home');
    const client = await connect();
    await publish(client, `${root}/sensors/temp`, '21', { qos: 1, retain: true });
    await publish(client, `${root}/sensors/temp/living-room`, '19', { qos: 1, retain: true });
    const upper = await tableOf(`${root}/sensors/`);
    const lower = await tableOf(`${root}/sensors/temp/`);
    expect(upper).toBeTruthy();
    expect(lower).toBeTruthy();
    expect(upper).not.toBe(lower);
    expect((await get(`/${upper}/temp`)).body.toString()).toBe('21');
    expect((await get(`/${lower}/living-room`)).body.toString()).toBe('19');
  });

  it('names tables mqtt_<levels> for plain lower-case topics', async () => {
    const level = 'plain' + unique('x').slice(2).replace(/[^a-z0-9]/g, '');
    const client = await connect();
    await publish(client, `${level}/b/c/d`, 'row d', { qos: 1, retain: true });
    expect(await tableOf(`${level}/b/c/`)).toBe(`mqtt_${level}_b_c`);
    expect((await get(`/mqtt_${level}_b_c/d`)).body.toString()).toBe('row d');
  });

  it('keeps topics whose names sanitize alike apart', async () => {
    const id = unique('n').slice(2);
    const topics = [`A-B${id}/x`, `a_b${id}/x`, `a/b${id}/x`];
    const client = await connect();
    for (const [i, topic] of topics.entries()) await publish(client, topic, `value ${i}`, { qos: 1, retain: true });
    const tables = await Promise.all(topics.map((t) => tableOf(t.slice(0, t.lastIndexOf('/') + 1))));
    expect(new Set(tables).size).toBe(3);
    for (const [i, table] of tables.entries()) expect((await get(`/${table}/x`)).body.toString()).toBe(`value ${i}`);
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topics);
    await waitFor(() => received.length === 3, 'three retained messages');
    expect(received.map((m) => `${m.topic}=${m.payload}`).sort()).toEqual(topics.map((t, i) => `${t}=value ${i}`).sort());
  });

  it('keeps single-level, empty-level, leading- and trailing-slash topics distinct', async () => {
    const id = unique('odd');
    const topics = [id, `/${id}`, `${id}/`, `${id}//x`, `${id}/x`, `/${id}/x`, `${id}/x/`];
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topics.map((t) => t));
    const publisher = await connect();
    for (const topic of topics) await publish(publisher, topic, `to ${topic}`, { qos: 1 });
    await waitFor(() => received.length === topics.length, 'one message per topic');
    await quietPeriod();
    expect(received.map((m) => m.topic).sort()).toEqual([...topics].sort());
    for (const message of received) expect(message.payload.toString()).toBe(`to ${message.topic}`);
  });

  it('shortens over-long topic levels into valid table names', async () => {
    const long = unique('long') + '/' + 'level-'.repeat(60) + '/end';
    const client = await connect();
    await publish(client, long, 'deep', { qos: 1, retain: true });
    const table = await tableOf(long.slice(0, long.lastIndexOf('/') + 1));
    expect(table).toMatch(/^mqtt_[a-z0-9_]+__[0-9a-f]{10}$/);
    expect(table!.length).toBeLessThanOrEqual(57);
    expect((await get(`/${table}/end`)).body.toString()).toBe('deep');
  });
});
