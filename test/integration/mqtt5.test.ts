// MQTT 5 clients: properties pass through, subscription options, reason codes.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, connectOnThread, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

const v5 = { protocolVersion: 5 as const };

const properties = (topic: string) => ({
  contentType: 'application/json',
  userProperties: { source: 'test', n: ['1', '2'] },
  responseTopic: `${topic}/reply`,
  correlationData: Buffer.from([0, 1, 0xfe, 0xff]),
  payloadFormatIndicator: true,
  messageExpiryInterval: 3600,
});

function expectForwarded(received: Record<string, unknown>, topic: string): void {
  expect(received.contentType).toBe('application/json');
  expect(received.userProperties).toEqual({ source: 'test', n: ['1', '2'] });
  expect(received.responseTopic).toBe(`${topic}/reply`);
  expect([...(received.correlationData as Buffer)]).toEqual([0, 1, 0xfe, 0xff]);
  expect(received.payloadFormatIndicator).toBe(true);
  expect(received.messageExpiryInterval).toBeGreaterThan(3590);
}

describe('MQTT 5', () => {
  // [subscriber thread, publisher thread]: messages decoded on another thread come back as
  // HarperDB records, which once lost user properties and binary types on the way.
  const threadPairs: Array<[number, number]> = [
    [0, 1],
    [1, 0],
    [0, 0],
  ];

  it.each(threadPairs)('forwards publish properties live (subscriber on thread %i, publisher on %i)', async (subscriberThread, publisherThread) => {
    const topic = `${unique('v5')}/props`;
    const subscriber = await connectOnThread(subscriberThread, v5);
    const received = record(subscriber);
    await subscribe(subscriber, topic, { qos: 1 });
    const publisher = await connectOnThread(publisherThread, v5);
    await publish(publisher, topic, '{"x":1}', { qos: 1, properties: properties(topic) });
    await waitFor(() => received.length === 1, 'the message');
    expectForwarded(received[0]!.packet.properties!, topic);
  });

  it.each(threadPairs)('keeps publish properties on the retained message (subscriber on thread %i, publisher on %i)', async (subscriberThread, publisherThread) => {
    const topic = `${unique('v5')}/kept`;
    const publisher = await connectOnThread(publisherThread, v5);
    await publish(publisher, topic, '{"x":1}', { qos: 1, retain: true, properties: properties(topic) });
    const subscriber = await connectOnThread(subscriberThread, v5);
    const received = record(subscriber);
    await subscribe(subscriber, topic, { qos: 1 });
    await waitFor(() => received.length === 1, 'the retained message');
    expect(received[0]!.retain).toBe(true);
    expectForwarded(received[0]!.packet.properties!, topic);
  });

  it('does not send a message to its publisher with No Local', async () => {
    const topic = `${unique('v5')}/nl`;
    const client = await connect(v5);
    const received = record(client);
    await subscribe(client, topic, { nl: true, qos: 1 });
    const other = await connect(v5);
    await publish(client, topic, 'own', { qos: 1 });
    await publish(other, topic, 'other', { qos: 1 });
    await waitFor(() => received.length === 1, 'the other client message');
    await quietPeriod();
    expect(received.map((m) => m.payload.toString())).toEqual(['other']);
  });

  it('keeps the retain flag on live messages with Retain As Published', async () => {
    const topic = `${unique('v5')}/rap`;
    const subscriber = await connect(v5);
    const received = record(subscriber);
    await subscribe(subscriber, topic, { rap: true });
    const publisher = await connect(v5);
    await publish(publisher, topic, 'r', { qos: 1, retain: true });
    await publish(publisher, topic, 'n', { qos: 1 });
    await waitFor(() => received.length === 2, 'two messages');
    expect(received.map((m) => [m.payload.toString(), m.retain])).toEqual([
      ['r', true],
      ['n', false],
    ]);
  });

  it('honours Retain Handling 1 (only on a new subscription) and 2 (never)', async () => {
    const topic = `${unique('v5')}/rh`;
    const publisher = await connect(v5);
    await publish(publisher, topic, 'state', { qos: 1, retain: true });
    const client = await connect(v5);
    const received = record(client);
    await subscribe(client, topic, { rh: 1 });
    await waitFor(() => received.length === 1, 'retained on first subscribe');
    await subscribe(client, topic, { rh: 1, qos: 1 });
    const never = await connect(v5);
    const none = record(never);
    await subscribe(never, topic, { rh: 2 });
    await quietPeriod();
    expect(received).toHaveLength(1);
    expect(none).toHaveLength(0);
  });
});
