// Delivery QoS is min(publish QoS, subscription QoS), and QoS 1/2 flows complete.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

const levels = [0, 1, 2] as const;

describe('QoS', () => {
  for (const publishQos of levels) {
    for (const subscribeQos of levels) {
      it(`publish QoS ${publishQos} to a QoS ${subscribeQos} subscription arrives at QoS ${Math.min(publishQos, subscribeQos)}`, async () => {
        const topic = `${unique('qos')}/t`;
        const subscriber = await connect();
        const received = record(subscriber);
        expect(await subscribe(subscriber, topic, { qos: subscribeQos })).toEqual([subscribeQos]);
        const publisher = await connect();
        await publish(publisher, topic, 'm', { qos: publishQos });
        await waitFor(() => received.length === 1, 'the message');
        expect(received[0]!.qos).toBe(Math.min(publishQos, subscribeQos));
      });
    }
  }

  it.each([1, 2] as const)('delivers 500 QoS %d messages in order, more than the in-flight window', async (qos) => {
    const topic = `${unique('qos')}/burst`;
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topic, { qos });
    const publisher = await connect();
    await Promise.all(Array.from({ length: 500 }, (_, i) => publish(publisher, topic, String(i), { qos })));
    await waitFor(() => received.length === 500, "500 messages", 15_000);
    expect(received.map((m) => Number(m.payload.toString()))).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
