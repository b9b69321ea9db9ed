// Two worker threads (THREADS_COUNT=2): a subscriber on one thread, a publisher on the other.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { closeAll, connectOnThread, harper, publish, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { get } from '../helpers/rest.js';

afterEach(closeAll);

describe('across worker threads', () => {
  beforeAll(() => {
    expect(harper().threads).toBe(2);
  });

  async function pair(): Promise<[MqttClient, MqttClient]> {
    return [await connectOnThread(0), await connectOnThread(1)];
  }

  it.each([0, 1, 2] as const)('delivers QoS %d from a publisher on thread 1 to a subscriber on thread 0, into tables created by thread 1', async (qos) => {
    const root = unique('xthread');
    const [subscriber, publisher] = await pair();
    const received = record(subscriber);
    await subscribe(subscriber, `${root}/#`, { qos: 2 });
    const topics = [`${root}/a`, `${root}/b/c`, `${root}/b/c/d/e`];
    for (const topic of topics) await publish(publisher, topic, `from thread 1: ${topic}`, { qos });
    await waitFor(() => received.length === topics.length, 'all messages');
    // Order is guaranteed per topic only; these are three topics in three new tables.
    const got = received.map((m) => [m.topic, m.payload.toString(), m.qos]).sort();
    expect(got).toEqual(topics.map((t) => [t, `from thread 1: ${t}`, qos]).sort());
  });

  it('gives a subscriber on thread 0 the retained messages of tables created on thread 1', async () => {
    const root = unique('xthread');
    const [subscriber, publisher] = await pair();
    await publish(publisher, `${root}/new/table`, 'retained on thread 1', { qos: 1, retain: true });
    const received = record(subscriber);
    await subscribe(subscriber, `${root}/#`);
    await waitFor(() => received.length === 1, 'the retained message');
    expect(received[0]).toMatchObject({ topic: `${root}/new/table`, retain: true });
    expect(received[0]!.payload.toString()).toBe('retained on thread 1');
  });

  it('serves the new table over REST from either thread', async () => {
    const root = unique('xthread');
    const [, publisher] = await pair();
    await publish(publisher, `${root}/rest/row`, 'hello', { qos: 1, retain: true });
    // HTTP requests also spread over the threads; every one of them must know the table.
    for (let i = 0; i < 8; i++) expect((await get(`/${root}/rest/row`)).body.toString()).toBe('hello');
  });
});
