// Floods of new topics must not take the broker down, nor create tables nobody asked for: the
// scenarios of issue 7, each with a probe client whose round trips show whether others are served.
import { afterEach, describe, expect, it } from 'vitest';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, record, sleep, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { RawClient } from '../helpers/raw.js';

afterEach(closeAll);

/** A client publishing QoS 1 to itself every 100 ms; resolves to the round-trip times when stopped. */
async function probe(port: number): Promise<{ stop(): Promise<number[]> }> {
  const client = await connect({ port });
  const topic = `${unique('probe')}/rtt`;
  await subscribe(client, topic, { qos: 1 });
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sent = Date.now();
      const arrived = new Promise<void>((resolve) => client.once('message', () => resolve()));
      await client.publishAsync(topic, 'ping', { qos: 1 });
      await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 5000))]);
      times.push(Date.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times;
    },
  };
}

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))]!;

async function tableCount(http: number, prefix: string): Promise<number> {
  const rows = (await (await fetch(`http://127.0.0.1:${http}/mqtt_topics/?select(prefix)`)).json()) as string[];
  return rows.filter((p) => p.startsWith(prefix)).length;
}

describe('floods of new topics', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_TABLE_CREATION_BURST: '50', MQTT_BRIDGE_TABLE_CREATION_RATE: '5', MQTT_BRIDGE_SYS_INTERVAL: '1' } });
  const dropped = async () => Number(((await (await fetch(`http://127.0.0.1:${instance().info.ports.http}/$SYS/broker/publish/messages/dropped`)).json()) as { value: string }).value);

  it('answers 200 SUBSCRIBEs of 200 new prefixes each within 2 s, creating no table, while others are served', async () => {
    const { mqtt, http } = instance().info.ports;
    const root = unique('storm');
    const watch = await probe(mqtt);
    const client = await RawClient.connect(4, unique('storm'), true, mqtt);
    const started = Date.now();
    for (let packet = 1; packet <= 200; packet++) {
      const subscriptions = Array.from({ length: 200 }, (_, i) => ({ topic: `${root}/p${packet}-${i}/#`, qos: 1 }));
      client.send({ cmd: 'subscribe', messageId: packet, subscriptions });
    }
    for (let packet = 1; packet <= 200; packet++) {
      const suback = (await client.next('suback', 2000)) as { granted: number[] };
      expect(suback.granted).toHaveLength(200);
    }
    expect(Date.now() - started).toBeLessThan(2000);
    client.close();
    const rtts = await watch.stop();
    expect(p99(rtts)).toBeLessThan(1000);
    expect(await tableCount(http, root)).toBe(0);
  });

  it('takes a QoS 0 flood to 10,000 new prefixes, keeps them all in the history, and keeps serving a probe', async () => {
    const { mqtt, http } = instance().info.ports;
    const root = unique('flood');
    const subscriber = await connect({ port: mqtt });
    const received = record(subscriber);
    await subscribe(subscriber, `${root}/#`);
    await sleep(1200);
    const droppedBefore = await dropped();
    const watch = await probe(mqtt);
    const flooder = await RawClient.connect(4, unique('flooder'), true, mqtt);
    for (let i = 0; i < 10_000; i++) flooder.send({ cmd: 'publish', topic: `${root}/d${i}/t`, payload: Buffer.from(String(i)), qos: 0, retain: false, dup: false });
    // A subscriber slower than the flood misses QoS 0 messages beyond maxQueued; each is counted.
    await waitFor(async () => received.length + (await dropped()) - droppedBefore === 10_000, 'every message delivered or counted as dropped', 60_000);
    const rtts = await watch.stop();
    expect(p99(rtts)).toBeLessThan(1000);
    expect(new Set(received.map((m) => m.topic)).size).toBe(received.length);
    expect(received.length).toBeGreaterThan(1000);
    // Non-retained messages need no table; the history has them all.
    expect(await tableCount(http, root)).toBe(0);
    await waitFor(
      async () => ((await (await fetch(`http://127.0.0.1:${http}/mqtt_history/?topic=${root}/d9999/t&select(id)`)).json()) as unknown[]).length === 1,
      'the last message in the history',
    );
    flooder.close();
  }, 90_000);

  it('bounds the tables a retained flood creates, refuses the rest with 0x97, and counts them', async () => {
    const { mqtt, http } = instance().info.ports;
    const root = unique('rflood');
    const watch = await probe(mqtt);
    const flooder = await RawClient.connect(5, unique('rflooder'), true, mqtt);
    const total = 300;
    const window = 100; // the Receive Maximum the broker announces
    const send = (i: number) => flooder.send({ cmd: 'publish', topic: `${root}/d${i}/t`, payload: Buffer.from(String(i)), qos: 1, messageId: i, retain: true, dup: false });
    for (let i = 1; i <= window; i++) send(i);
    const codes: number[] = [];
    for (let i = 1; i <= total; i++) {
      codes.push(((await flooder.next('puback', 30_000)) as { reasonCode?: number }).reasonCode ?? 0);
      if (i + window <= total) send(i + window);
    }
    const rtts = await watch.stop();
    expect(p99(rtts)).toBeLessThan(1000);
    const accepted = codes.filter((code) => code === 0).length;
    const refused = codes.filter((code) => code === 0x97).length;
    expect(accepted + refused).toBe(total);
    // 50 at once plus 5 a second, on the one thread the flooder is on (a few seconds pass).
    expect(accepted).toBeGreaterThanOrEqual(50);
    expect(accepted).toBeLessThan(120);
    expect(await tableCount(http, root)).toBe(accepted);
    flooder.close();
  }, 60_000);

  it('delivers the first QoS 1 window on a brand-new retained topic in order, live and to a late subscriber', async () => {
    const { mqtt } = instance().info.ports;
    const topic = `${unique('order')}/new/t`;
    const live = await connect({ port: mqtt });
    const liveReceived = record(live);
    await subscribe(live, topic, { qos: 1 });
    const publisher = await RawClient.connect(4, unique('orderer'), true, mqtt);
    // The first is retained (its table is created on the way); the rest overtake nothing.
    for (let i = 1; i <= 100; i++) publisher.send({ cmd: 'publish', topic, payload: Buffer.from(String(i)), qos: 1, messageId: i, retain: i === 1, dup: false });
    await waitFor(() => liveReceived.length === 100, '100 messages', 20_000);
    expect(liveReceived.map((m) => Number(m.payload.toString()))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    publisher.close();
  });
});
