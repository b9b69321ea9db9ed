// MQTT 5 clients: properties pass through, subscription options, reason codes.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

const v5 = { protocolVersion: 5 as const };

describe('MQTT 5', () => {
  it('forwards publish properties to subscribers', async () => {
    const topic = `${unique('v5')}/props`;
    const subscriber = await connect(v5);
    const received = record(subscriber);
    await subscribe(subscriber, topic, { qos: 1 });
    const publisher = await connect(v5);
    await publish(publisher, topic, '{"x":1}', {
      qos: 1,
      properties: {
        contentType: 'application/json',
        userProperties: { source: 'test', n: ['1', '2'] },
        responseTopic: `${topic}/reply`,
        correlationData: Buffer.from('corr'),
        payloadFormatIndicator: true,
        messageExpiryInterval: 3600,
      },
    });
    await waitFor(() => received.length === 1, 'the message');
    const properties = received[0]!.packet.properties!;
    expect(properties.contentType).toBe('application/json');
    expect(properties.userProperties).toEqual({ source: 'test', n: ['1', '2'] });
    expect(properties.responseTopic).toBe(`${topic}/reply`);
    expect(Buffer.from(properties.correlationData as Buffer).toString()).toBe('corr');
    expect(properties.payloadFormatIndicator).toBe(true);
    expect(properties.messageExpiryInterval).toBeGreaterThan(3590);
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
