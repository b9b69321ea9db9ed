// $SYS statistics on a real HarperDB with two worker threads and a 1-second refresh: the figures
// must be exact for the whole process, whichever thread each client landed on.
import type { MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, record, sleep, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { RawClient } from '../helpers/raw.js';

afterEach(closeAll);

const LOADS = ['messages/received', 'messages/sent', 'bytes/received', 'bytes/sent', 'publish/received', 'publish/sent', 'publish/dropped', 'connections', 'sockets'];
/** Every topic docs/sys.md documents, written out here so a topic that goes missing fails the test. */
const DOCUMENTED = [
  'version',
  'uptime',
  'clients/connected',
  'clients/disconnected',
  'clients/expired',
  'clients/maximum',
  'clients/total',
  'messages/received',
  'messages/sent',
  'publish/messages/received',
  'publish/messages/sent',
  'publish/messages/dropped',
  'publish/bytes/received',
  'publish/bytes/sent',
  'bytes/received',
  'bytes/sent',
  'subscriptions/count',
  'retained messages/count',
  'store/messages/count',
  'store/messages/bytes',
  ...LOADS.flatMap((load) => ['1min', '5min', '15min'].map((period) => `load/${load}/${period}`)),
  'tables/count',
  'tables/created',
  'tables/refused',
  'tables/rules',
  'tables/fanout/count',
  'tables/fanout/largest',
  'tables/history/rows',
  'tables/history/pending',
].map((id) => `$SYS/broker/${id}`);

describe('$SYS with two worker threads', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_SYS_INTERVAL: '1' } });
  let http: number;
  let mqtt: number;

  beforeAll(() => {
    ({ http, mqtt } = instance().info.ports);
  });

  async function sysValues(): Promise<Map<string, string>> {
    const response = await fetch(`http://127.0.0.1:${http}/sys/?limit(1000)`);
    expect(response.status).toBe(200);
    const rows = (await response.json()) as Array<{ id: string; value: string }>;
    return new Map(rows.map((row) => [row.id, row.value]));
  }

  async function versionWrittenAt(): Promise<number> {
    const row = (await (await fetch(`http://127.0.0.1:${http}/sys/broker/version`)).json()) as { updatedAt: string | number };
    return new Date(row.updatedAt).getTime();
  }

  async function figure(id: string): Promise<number> {
    return Number((await sysValues()).get(`broker/${id}`));
  }

  /** Waits up to 5 refreshes for every figure to reach its expected value, then compares them all. */
  async function expectFigures(expected: () => Record<string, number>): Promise<void> {
    let actual: Record<string, number> = {};
    for (let tries = 0; tries < 25; tries++) {
      const values = await sysValues();
      const wanted = expected();
      actual = Object.fromEntries(Object.keys(wanted).map((id) => [id, Number(values.get(`broker/${id}`))]));
      if (Object.keys(wanted).every((id) => actual[id] === wanted[id])) break;
      await sleep(200);
    }
    expect(actual).toEqual(expected());
  }

  async function threadOf(client: RawClient): Promise<number> {
    const topic = `${unique('sys-probe')}/p`;
    client.send({ cmd: 'publish', topic, payload: Buffer.from('p'), qos: 1, messageId: 1 });
    await client.next('puback');
    // History rows are written just behind the messages.
    const row = await waitFor(async () => ((await (await fetch(`http://127.0.0.1:${http}/mqtt_history/?topic=${encodeURIComponent(topic)}`)).json()) as Array<{ id: string }>)[0], 'the probe in the history');
    return parseInt(row.id.split('-')[1]!, 36);
  }

  it('counts clients, packets, bytes, publishes, subscriptions and retained messages of all threads exactly', async () => {
    await sleep(2500); // the start-up probe connections are over and counted
    const base = Object.fromEntries((await sysValues()).entries());
    const baseNumber = (id: string) => Number(base[`broker/${id}`]);
    expect(baseNumber('clients/connected')).toBe(0);

    // Clients until each thread has two of them.
    const clients: RawClient[] = [];
    const perThread = [0, 0];
    let probes = 0;
    while (perThread[0]! < 2 || perThread[1]! < 2) {
      const client = await RawClient.connect(4, unique('sys'), true, mqtt);
      clients.push(client);
      perThread[await threadOf(client)]! += 1;
      probes++;
      if (clients.length > 30) throw new Error('connections did not spread over both threads');
    }
    const [subscriberA, subscriberB, ...publishers] = clients;
    const prefix = unique('sys-test');
    subscriberA!.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `${prefix}/#`, qos: 0 }] });
    subscriberB!.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `${prefix}/+/x`, qos: 0 }, { topic: `${prefix}/#`, qos: 0 }] });
    await subscriberA!.next('suback');
    await subscriberB!.next('suback');

    // Every publisher sends three messages of known sizes, one of them retained on its own topic.
    let payloadBytes = probes; // each probe had a 1-byte payload
    publishers.forEach((client, i) => {
      for (const [n, size, retain] of [[1, 10, false], [2, 200, false], [3, 3000, true]] as const) {
        client.send({ cmd: 'publish', topic: `${prefix}/c${i}/m${n}`, payload: Buffer.alloc(size, 0x61), qos: 0, retain });
        payloadBytes += size;
      }
    });
    const publishes = probes + publishers.length * 3;
    const sum = (key: keyof RawClient['wire']) => clients.reduce((total, client) => total + client.wire[key], 0);

    await expectFigures(() => ({
      'clients/connected': clients.length,
      'clients/maximum': Math.max(baseNumber('clients/maximum'), clients.length),
      'messages/received': baseNumber('messages/received') + sum('packetsSent'),
      'bytes/received': baseNumber('bytes/received') + sum('bytesSent'),
      'messages/sent': baseNumber('messages/sent') + sum('packetsReceived'),
      'bytes/sent': baseNumber('bytes/sent') + sum('bytesReceived'),
      'publish/messages/received': baseNumber('publish/messages/received') + publishes,
      'publish/bytes/received': baseNumber('publish/bytes/received') + payloadBytes,
      // Subscriber A gets every message, B (two matching filters, one delivery each) too.
      'publish/messages/sent': baseNumber('publish/messages/sent') + 2 * publishers.length * 3,
      'subscriptions/count': 3,
      'retained messages/count': publishers.length,
    }));
    expect(sum('bytesReceived')).toBeGreaterThan(2 * publishers.length * 3210); // the deliveries did arrive

    await Promise.all(clients.map((client) => client.disconnect()));
    await expectFigures(() => ({
      'clients/connected': 0,
      'clients/maximum': Math.max(baseNumber('clients/maximum'), clients.length),
      'messages/received': baseNumber('messages/received') + sum('packetsSent'),
      'bytes/received': baseNumber('bytes/received') + sum('bytesSent'),
      'subscriptions/count': 0,
      'retained messages/count': publishers.length,
    }));
  }, 60_000);

  it('gives a $SYS/# subscriber every documented topic at once, retained, then the changes', async () => {
    const client = await connect({ port: mqtt });
    const received = record(client);
    const subscribedAt = Date.now();
    await subscribe(client, '$SYS/#');
    await waitFor(() => DOCUMENTED.every((topic) => received.some((m) => m.topic === topic)), 'all $SYS topics', 1000);
    expect(Date.now() - subscribedAt).toBeLessThan(1000); // within one interval
    const first = received.filter((m) => m.retain);
    expect(new Set(first.map((m) => m.topic))).toEqual(new Set(DOCUMENTED));
    const text = (topic: string) => first.find((m) => m.topic === topic)!.payload.toString();
    expect(text('$SYS/broker/version')).toMatch(/^harper-mqtt-bridge \d+\.\d+\.\d+ on HarperDB 4\.7\.29$/);
    expect(text('$SYS/broker/uptime')).toMatch(/^\d+ seconds$/);
    expect(text('$SYS/broker/load/connections/1min')).toMatch(/^\d+\.\d\d$/);
    expect(Number(text('$SYS/broker/clients/connected'))).toBeGreaterThanOrEqual(0);

    // Live changes follow: uptime moves every refresh.
    const uptimes = () => received.filter((m) => m.topic === '$SYS/broker/uptime').length;
    await waitFor(() => uptimes() >= 2, 'a second uptime value', 3000);
  });

  it('keeps $SYS away from # and +/... subscribers', async () => {
    const all = await connect({ port: mqtt });
    const plus = await connect({ port: mqtt });
    const sys = await connect({ port: mqtt });
    const fromAll = record(all);
    const fromPlus = record(plus);
    const fromSys = record(sys);
    await subscribe(all, '#');
    await subscribe(plus, ['+/broker/#', '+/broker/uptime']);
    await subscribe(sys, '$SYS/broker/uptime');
    await sleep(2500); // two refreshes, each publishing a new uptime
    expect(fromSys.filter((m) => !m.retain).length).toBeGreaterThanOrEqual(1);
    expect(fromAll.filter((m) => m.topic.startsWith('$'))).toEqual([]);
    expect(fromPlus).toEqual([]);
  });

  it('refuses a PUBLISH into $SYS and counts it as dropped', async () => {
    const dropped = await figure('publish/messages/dropped');
    const client = await RawClient.connect(5, unique('sys-writer'), true, mqtt);
    client.send({ cmd: 'publish', topic: '$SYS/broker/clients/connected', payload: Buffer.from('9999'), qos: 1, messageId: 5 });
    const ack = (await client.next('puback')) as { reasonCode?: number };
    expect(ack.reasonCode).toBeGreaterThanOrEqual(0x80);
    await client.disconnect();
    await expectFigures(() => ({ 'publish/messages/dropped': dropped + 1 }));
    expect(await figure('clients/connected')).not.toBe(9999);
  });

  it('keeps its totals when HarperDB restarts the worker threads, and counts only live clients', async () => {
    const client = await connect({ port: mqtt });
    await expectFigures(() => ({ 'clients/connected': 1 }));
    const before = { received: await figure('messages/received'), bytes: await figure('bytes/received') };
    const { operations } = instance().info.ports;
    const { adminUser, adminPassword } = instance().info;
    const response = await fetch(`http://127.0.0.1:${operations}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${adminUser}:${adminPassword}`).toString('base64')}` },
      body: JSON.stringify({ operation: 'restart_service', service: 'http_workers' }),
    });
    expect(response.status).toBe(200);
    const restartedAt = Date.now();
    await waitFor(() => client.connected === false, 'the old worker to close its connections', 30_000);
    client.end(true);
    // The restarted threads serve again, and $SYS is refreshed by the new worker 0.
    let again: MqttClient | undefined;
    for (const deadline = Date.now() + 30_000; !again && Date.now() < deadline; ) {
      again = await connect({ port: mqtt }).catch(() => sleep(200).then(() => undefined));
    }
    if (!again) throw new Error('MQTT did not come back after the restart');
    // The new worker 0 writes every value at its first refresh.
    for (const deadline = Date.now() + 30_000; (await versionWrittenAt()) < restartedAt; ) {
      if (Date.now() > deadline) throw new Error('no $SYS refresh after the restart');
      await sleep(200);
    }
    // Totals go on from where they were (a reset would start again near zero).
    await expectFigures(() => ({ 'clients/connected': 1, 'messages/received': before.received + 1 }));
    expect(await figure('bytes/received')).toBeGreaterThan(before.bytes);
    await again.endAsync();
    await expectFigures(() => ({ 'clients/connected': 0 }));
  }, 90_000);

  it('serves the same figures over REST at /$SYS/ and by table name', async () => {
    const byPath = await fetch(`http://127.0.0.1:${http}/$SYS/broker/version`);
    expect(byPath.status).toBe(200);
    expect(((await byPath.json()) as { value: string }).value).toMatch(/^harper-mqtt-bridge /);
    const spaced = await fetch(`http://127.0.0.1:${http}/$SYS/broker/retained%20messages/count`);
    expect(spaced.status).toBe(200);
    expect(((await spaced.json()) as { value: string }).value).toMatch(/^\d+$/);
    const byName = await fetch(`http://127.0.0.1:${http}/sys/broker/tables/count`);
    expect(((await byName.json()) as { value: string }).value).toMatch(/^\d+$/);
  });
});

describe('$SYS with sysInterval 0', () => {
  const instance = ownInstance({ threads: 1, env: { MQTT_BRIDGE_SYS_INTERVAL: '0' } });

  it('publishes and stores nothing', async () => {
    const { http, mqtt } = instance().info.ports;
    const client = await connect({ port: mqtt });
    const received = record(client);
    await subscribe(client, '$SYS/#');
    await sleep(1500);
    expect(received).toEqual([]);
    const rows = (await (await fetch(`http://127.0.0.1:${http}/sys/`)).json()) as unknown[];
    expect(rows).toEqual([]);
  });
});
