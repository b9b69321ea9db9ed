// Retained messages: set, replace, clear; delivered to new subscribers with the retain flag,
// across tables; non-retained messages never reach later subscribers.
import { afterEach, describe, expect, it } from 'vitest';
import { accepted, closeAll, connect, publish as send, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

// Each publish returns once the broker has accepted it, so QoS 0 is as ordered as QoS 1/2 here.
const counts = new Map<string, number>();
async function publish(...args: Parameters<typeof send>): Promise<void> {
  await send(...args);
  const topic = args[1];
  const count = (counts.get(topic) ?? 0) + 1;
  counts.set(topic, count);
  await accepted(topic, count);
}

async function retainedFor(filter: string, qos: 0 | 1 | 2 = 0) {
  const client = await connect();
  const received = record(client);
  await subscribe(client, filter, { qos });
  await quietPeriod();
  return received;
}

describe.each([0, 1, 2] as const)('retained messages at QoS %d', (qos) => {
  it('sets, replaces and clears the retained message of a topic', async () => {
    const topic = `${unique('ret')}/a/b`;
    const publisher = await connect();
    await publish(publisher, topic, 'first', { qos, retain: true });
    expect((await retainedFor(topic)).map((m) => m.payload.toString())).toEqual(['first']);
    await publish(publisher, topic, 'second', { qos, retain: true });
    expect((await retainedFor(topic)).map((m) => m.payload.toString())).toEqual(['second']);
    await publish(publisher, topic, '', { qos, retain: true });
    expect(await retainedFor(topic)).toEqual([]);
  });

  it('does not store or replace on a non-retained publish', async () => {
    const topic = `${unique('ret')}/x`;
    const publisher = await connect();
    await publish(publisher, topic, 'kept', { qos, retain: true });
    await publish(publisher, topic, 'passing', { qos });
    expect((await retainedFor(topic)).map((m) => m.payload.toString())).toEqual(['kept']);
    const other = `${unique('ret')}/never`;
    await publish(publisher, other, 'not retained', { qos });
    expect(await retainedFor(other)).toEqual([]);
  });

  it('sends every matching retained message, across tables, with the retain flag and min QoS', async () => {
    const root = unique('ret');
    const topics = [`${root}`, `${root}/a`, `${root}/a/b`, `${root}/c/d/e`];
    const publisher = await connect();
    for (const topic of topics) await publish(publisher, topic, `v:${topic}`, { qos, retain: true });
    await publish(publisher, `${root}-sibling/a`, 'other tree', { qos, retain: true });
    const received = await retainedFor(`${root}/#`, 2);
    expect(received.map((m) => m.topic).sort()).toEqual([...topics].sort());
    for (const message of received) {
      expect(message.retain).toBe(true);
      expect(message.qos).toBe(qos);
      expect(message.payload.toString()).toBe(`v:${message.topic}`);
    }
  });
});

describe('retained delivery details', () => {
  it('live messages go to existing subscribers with retain 0', async () => {
    const topic = `${unique('ret')}/live`;
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topic);
    const publisher = await connect();
    await publish(publisher, topic, 'retained but live', { qos: 1, retain: true });
    await waitFor(() => received.length === 1, 'the live message');
    expect(received[0]!.retain).toBe(false);
  });

  it('sends the retained message again when a client subscribes again', async () => {
    const topic = `${unique('ret')}/again`;
    const publisher = await connect();
    await publish(publisher, topic, 'state', { qos: 1, retain: true });
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topic);
    await waitFor(() => received.length === 1, 'first retained copy');
    await subscribe(subscriber, topic, { qos: 1 });
    await waitFor(() => received.length === 2, 'second retained copy'); // [MQTT-3.8.4-3]
    expect(received.every((m) => m.retain)).toBe(true);
  });

  it('a cleared retained message is still delivered live as an empty message', async () => {
    const topic = `${unique('ret')}/clear`;
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topic);
    const publisher = await connect();
    await publish(publisher, topic, '', { qos: 1, retain: true });
    await waitFor(() => received.length === 1, 'the empty message');
    expect(received[0]!.payload.length).toBe(0);
  });
});
