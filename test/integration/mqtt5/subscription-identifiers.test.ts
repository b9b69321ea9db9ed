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
});
