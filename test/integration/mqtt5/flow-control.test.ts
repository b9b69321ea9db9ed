// Receive Maximum both ways [MQTT-3.3.4-7, MQTT-3.3.4-9]: the broker never has more unacknowledged
// QoS 1/2 messages out than the client allows, and disconnects a client that sends more than it
// advertised (0x93).
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, quietPeriod, unique } from '../../helpers/mqtt.js';
import { RawClient } from '../../helpers/raw.js';

afterEach(closeAll);

describe('receive maximum', () => {
  it('advertises 100 and disconnects with 0x93 a client that leaves 101 QoS 2 messages incomplete', async () => {
    const { client, connack } = await RawClient.open(5);
    expect(connack.properties?.receiveMaximum).toBe(100);
    const topic = `${unique('flow')}/t`;
    for (let id = 1; id <= 101; id++) client.send({ cmd: 'publish', topic, payload: 'x', qos: 2, messageId: id });
    const disconnect = (await client.next('disconnect')) as { reasonCode: number };
    expect(disconnect.reasonCode).toBe(0x93);
    await client.closed;
  });

  it.each([1, 2] as const)('QoS %i: sends at most the client Receive Maximum unacknowledged, the rest after acknowledgements', async (qos) => {
    const topic = `${unique('flow')}/t`;
    const { client } = await RawClient.open(5, { properties: { receiveMaximum: 2 } });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] });
    await client.next('suback');
    const publisher = await connect({ protocolVersion: 5 });
    for (let i = 0; i < 4; i++) await publish(publisher, topic, String(i), { qos });
    const first = [(await client.next('publish')) as { messageId: number }, (await client.next('publish')) as { messageId: number }];
    await quietPeriod();
    await expect(client.next('publish', 200)).rejects.toThrow(/no publish/);
    for (const p of first) client.send(qos === 1 ? { cmd: 'puback', messageId: p.messageId } : { cmd: 'pubrec', messageId: p.messageId });
    if (qos === 2) {
      await client.next('pubrel');
      await client.next('pubrel');
      await quietPeriod();
      await expect(client.next('publish', 200)).rejects.toThrow(/no publish/); // still in flight until PUBCOMP
      for (const p of first) client.send({ cmd: 'pubcomp', messageId: p.messageId });
    }
    const rest = [(await client.next('publish')) as { payload: Buffer }, (await client.next('publish')) as { payload: Buffer }];
    expect(rest.map((p) => p.payload.toString())).toEqual(['2', '3']);
    client.close();
  });
});
