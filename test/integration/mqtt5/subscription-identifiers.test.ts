// Subscription identifiers [MQTT-3.3.4-3]: every matching subscription's identifier goes with the message.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, unique } from '../../helpers/mqtt.js';
import { RawClient } from '../../helpers/raw.js';

afterEach(closeAll);

describe('subscription identifiers', () => {
  it.each([0, 1, 2] as const)('QoS %i: a message matching two subscriptions carries both identifiers, one match carries one', async (qos) => {
    const prefix = unique('subid');
    const { client } = await RawClient.open(5);
    client.send({ cmd: 'subscribe', messageId: 1, properties: { subscriptionIdentifier: 7 }, subscriptions: [{ topic: `${prefix}/#`, qos }] });
    await client.next('suback');
    client.send({ cmd: 'subscribe', messageId: 2, properties: { subscriptionIdentifier: 300 }, subscriptions: [{ topic: `${prefix}/a`, qos }] });
    await client.next('suback');
    const publisher = await connect({ protocolVersion: 5 });
    await publish(publisher, `${prefix}/a`, 'both', { qos });
    await publish(publisher, `${prefix}/b`, 'one', { qos });
    const both = (await client.next('publish')) as { properties?: { subscriptionIdentifier?: number | number[] } };
    const one = (await client.next('publish')) as { properties?: { subscriptionIdentifier?: number | number[] } };
    expect([both.properties?.subscriptionIdentifier].flat().sort((a, b) => a! - b!)).toEqual([7, 300]);
    expect([one.properties?.subscriptionIdentifier].flat()).toEqual([7]);
    client.close();
  });

  it.each([0, 1, 2] as const)('QoS %i: its own publish right after two SUBSCRIBEs, before their SUBACKs, carries both identifiers, once', async (qos) => {
    // Paho's test_subscribe_identifiers: the message arrives while both new subscriptions are
    // still sending their retained messages, and must wait for both, not go out with one identifier.
    const prefix = unique('subidpipe');
    const { client } = await RawClient.open(5);
    client.send({ cmd: 'subscribe', messageId: 1, properties: { subscriptionIdentifier: 2 }, subscriptions: [{ topic: prefix, qos }] });
    client.send({ cmd: 'subscribe', messageId: 2, properties: { subscriptionIdentifier: 3 }, subscriptions: [{ topic: `${prefix}/#`, qos }] });
    client.send({ cmd: 'publish', topic: prefix, payload: Buffer.from('pipelined'), qos, messageId: qos ? 3 : undefined, retain: false, dup: false } as never);
    if (qos === 2) {
      await client.next('pubrec');
      client.send({ cmd: 'pubrel', messageId: 3 });
    }
    const message = (await client.next('publish')) as { payload: Buffer; properties?: { subscriptionIdentifier?: number | number[] } };
    expect(message.payload.toString()).toBe('pipelined');
    expect([message.properties?.subscriptionIdentifier].flat().sort((a, b) => a! - b!)).toEqual([2, 3]);
    await expect(client.next('publish', 500)).rejects.toThrow();
    client.close();
  });
});
