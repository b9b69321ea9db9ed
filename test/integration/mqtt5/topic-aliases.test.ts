// Topic aliases [MQTT-3.3.2-8..12]: inbound aliases up to the advertised maximum, 0 and larger
// values refused with DISCONNECT 0x94; outbound aliases when the client allows them.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../../helpers/mqtt.js';
import { RawClient } from '../../helpers/raw.js';

afterEach(closeAll);

describe('topic aliases', () => {
  it.each([0, 1, 2] as const)('QoS %i: a PUBLISH by alias alone reaches subscribers under the full topic', async (qos) => {
    const topic = `${unique('alias')}/t`;
    const watcher = await connect({ protocolVersion: 5 });
    const received = record(watcher);
    await subscribe(watcher, topic, { qos: 1 });
    const { client, connack } = await RawClient.open(5);
    expect(connack.properties?.topicAliasMaximum).toBe(10);
    client.send({ cmd: 'publish', topic, payload: 'first', qos, messageId: qos ? 1 : undefined, properties: { topicAlias: 3 } });
    client.send({ cmd: 'publish', topic: '', payload: 'second', qos, messageId: qos ? 2 : undefined, properties: { topicAlias: 3 } });
    await waitFor(() => received.length === 2, 'both messages');
    expect(received.map((m) => [m.topic, m.payload.toString()])).toEqual([
      [topic, 'first'],
      [topic, 'second'],
    ]);
    client.close();
  });

  it.each([0, 11])('alias %i closes the connection with 0x94', async (alias) => {
    const { client } = await RawClient.open(5);
    client.send({ cmd: 'publish', topic: `${unique('alias')}/t`, payload: 'x', qos: 0, properties: { topicAlias: alias } });
    const disconnect = (await client.next('disconnect')) as { reasonCode: number };
    expect(disconnect.reasonCode).toBe(0x94);
    await client.closed;
  });

  it('an unknown alias with an empty topic is a protocol error', async () => {
    const { client } = await RawClient.open(5);
    client.send({ cmd: 'publish', topic: '', payload: 'x', qos: 0, properties: { topicAlias: 5 } });
    const disconnect = (await client.next('disconnect')) as { reasonCode: number };
    expect(disconnect.reasonCode).toBeGreaterThanOrEqual(0x80);
    await client.closed;
  });

  it('uses aliases towards a client that allows them: the topic goes once, then the alias alone', async () => {
    const topic = `${unique('alias')}/out`;
    const { client } = await RawClient.open(5, { properties: { topicAliasMaximum: 5 } });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
    await client.next('suback');
    const publisher = await connect({ protocolVersion: 5 });
    await publish(publisher, topic, 'a', { qos: 1 });
    await publish(publisher, topic, 'b', { qos: 1 });
    const first = (await client.next('publish')) as { topic: string; properties?: { topicAlias?: number } };
    const second = (await client.next('publish')) as { topic: string; properties?: { topicAlias?: number } };
    expect(first.topic).toBe(topic);
    expect(first.properties?.topicAlias).toBeGreaterThan(0);
    expect(second.topic).toBe('');
    expect(second.properties?.topicAlias).toBe(first.properties?.topicAlias);
    client.close();
  });
});
