// Bridges to a real Mosquitto (Debian's package, started here on a free port with persistence and
// an ACL): outbound at QoS 1 with exact counts and order, a remote outage, a kill -9 of HarperDB
// with a backlog, inbound into local subscribers and topic tables, loop prevention both ways, a
// refused topic dead-lettered and replayed, runtime add/remove, secrets, bad specs.
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { HarperInstance } from '../../src/cli/instance.js';
import { Mosquitto } from '../../src/cli/mosquitto.js';
import { closeAll, connect, quietPeriod, sleep, unique, waitFor } from '../helpers/mqtt.js';

const ALLOW_ALL = 'topic readwrite #\n';
let mosquitto: Mosquitto;
let harper: HarperInstance;
const remotes = new Set<MqttClient>();

const remoteUrl = () => `mqtt://127.0.0.1:${mosquitto.port}`;
const base = () => `http://127.0.0.1:${harper.info.ports.http}`;
const localPort = () => harper.info.ports.mqtt;

beforeAll(async () => {
  mosquitto = await Mosquitto.start((dir) => {
    writeFileSync(join(dir, 'acl'), ALLOW_ALL + 'topic deny p/bad/#\n');
    // Mosquitto started as root drops to the mosquitto user, which cannot write this private folder.
    return [`user ${userInfo().username}`, `persistence true`, `persistence_location ${dir}/`, `acl_file ${join(dir, 'acl')}`, 'max_queued_messages 100000'].join('\n');
  });
  const configured = [
    { name: 'from-config', url: remoteUrl(), outbound: [{ filter: 'cfg/#', remoteTopic: 'fwd/${topic}' }] },
    { name: 'broken', url: 'ftp://nowhere', outbound: [{ filter: 'x/#' }] },
  ];
  harper = await HarperInstance.create({ threads: 2, env: { MQTT_BRIDGE_BRIDGES: JSON.stringify(configured) } });
  await harper.start();
}, 180_000);

afterAll(async () => {
  await harper?.destroy();
  await mosquitto?.stop();
});

afterEach(async () => {
  await Promise.all([...remotes].map((client) => client.endAsync(true).catch(() => undefined)));
  remotes.clear();
  await closeAll();
});

async function http(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const response = await fetch(base() + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, body: parsed, text };
}

async function addBridge(spec: Record<string, unknown>): Promise<void> {
  const reply = await http('POST', '/mqtt_bridges/', { url: remoteUrl(), ...spec });
  expect(reply.status, reply.text).toBe(201);
  await waitFor(async () => (await status(spec.name as string)).connected, `bridge ${spec.name} connected`, 15_000);
}

async function status(name: string): Promise<any> {
  const reply = await http('GET', `/mqtt_bridges/${name}`);
  return reply.status === 200 ? reply.body.status : {};
}

/** A persistent subscriber on the remote that reconnects by itself; records payloads by topic. */
async function remoteSubscriber(filter: string, clientId = unique('remote-sub')): Promise<{ client: MqttClient; got: Array<{ topic: string; payload: string }> }> {
  const got: Array<{ topic: string; payload: string }> = [];
  const client = mqtt.connect({ host: '127.0.0.1', port: mosquitto.port, clientId, clean: false, reconnectPeriod: 300, protocolVersion: 4 });
  remotes.add(client);
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

async function publishLocal(topic: (i: number) => string, count: number, qos: 0 | 1 = 1): Promise<void> {
  const client = await connect({ port: localPort() });
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) => client.publishAsync(topic(i + j), String(i + j), { qos })));
  }
  await client.endAsync();
}

const inOrder = (payloads: string[], count: number) => expect(payloads).toEqual(Array.from({ length: count }, (_, i) => String(i)));

describe('bridges from config.yaml', () => {
  it('starts the good entry and refuses the bad one with a message naming it', async () => {
    const list = await http('GET', '/mqtt_bridges/');
    expect(list.status).toBe(200);
    expect(list.body.map((b: any) => [b.name, b.source])).toEqual([['from-config', 'config']]);
    await waitFor(() => harper.logFile().includes('config.yaml mqttBridge.bridge "broken": url must start with mqtt://, mqtts://, ws:// or wss://, got ftp://'), 'the error in the log');
    const sub = await remoteSubscriber('fwd/cfg/#');
    await publishLocal((i) => `cfg/${i % 3}`, 30);
    await waitFor(() => sub.got.length === 30, '30 messages on the remote', 15_000);
    inOrder(sub.got.map((m) => m.payload), 30);
    const put = await http('PUT', '/mqtt_bridges/from-config', { url: remoteUrl(), outbound: [{ filter: 'y/#' }] });
    expect(put.status).toBe(409);
  });
});

describe('outbound', () => {
  it('forwards 2,000 QoS 1 messages once each, in order, and counts them', async () => {
    await addBridge({ name: 'out', outbound: [{ filter: 'o/#', remoteTopic: 'fwd/${topic}', stripPrefix: 'o/' }] });
    const sub = await remoteSubscriber('fwd/#');
    await publishLocal((i) => `o/dev${i % 7}/t`, 2000);
    await waitFor(() => sub.got.length >= 2000, '2000 messages on the remote', 30_000);
    await quietPeriod();
    expect(sub.got.length).toBe(2000);
    inOrder(sub.got.map((m) => m.payload), 2000);
    expect(sub.got[8]!.topic).toBe('fwd/dev1/t');
    const s = await waitFor(async () => ((await status('out')).acknowledged === 2000 ? status('out') : false), 'acknowledged 2000');
    expect(s).toMatchObject({ connected: true, state: 'live', sent: 2000, acknowledged: 2000, refused: 0, pending: { messages: 0, bytes: 0 }, deadLetters: { count: 0 } });
  });

  it('keeps messages through a remote outage and delivers them all, in order, when it is back', async () => {
    const sub = await remoteSubscriber('fwd/#');
    sub.client.removeAllListeners('message');
    const got: string[] = [];
    sub.client.on('message', (topic, payload) => topic.startsWith('fwd/outage/') && got.push(payload.toString()));
    await mosquitto.pause();
    await waitFor(async () => (await status('out')).connected === false, 'bridge disconnected', 10_000);
    await publishLocal((i) => `o/outage/${i % 5}`, 500);
    const during = await waitFor(async () => ((await status('out')).pending.messages === 500 ? status('out') : false), '500 pending');
    expect(during).toMatchObject({ connected: false, pending: { messages: 500, bytes: 1390 } });
    const back = Date.now();
    await mosquitto.resume();
    await waitFor(() => got.length >= 500, '500 messages after the outage', 30_000);
    const recovery = Date.now() - back;
    await quietPeriod();
    inOrder(got, 500);
    console.log(`bridge recovery: 500 messages delivered ${recovery} ms after the remote came back`);
    expect((await status('out')).pending.messages).toBe(0);
  });
});
