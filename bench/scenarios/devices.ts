// Devices (issue #8): what credentials and prefixes cost. Connections per second with device
// credentials (first connection of each device, which pays HarperDB's argon2id check, and later
// ones) against the admin user; QoS 1 publishes of a device under its prefix against the admin's
// (the cost of the prefix check); HTTP ingest, one message and 100 per request, against MQTT QoS 1.
import { performance } from 'node:perf_hooks';
import type { HarperInstance } from '../../src/cli/instance.js';
import { BenchClient } from '../client.js';
import { median, round } from '../stats.js';

interface Login {
  username: string;
  password: string;
}

const DEVICES = 100;
let ids = 0;
const clientId = () => `bench-dev-${process.pid}-${++ids}`;

async function generate(base: string, admin: string, index: number): Promise<Login> {
  const response = await fetch(`${base}/mqtt_credentials/`, {
    method: 'POST',
    headers: { authorization: admin, 'content-type': 'application/json' },
    body: JSON.stringify({ username: `bench-${process.pid}-${index}`, prefixes: [`fleet/bench-${process.pid}-${index}`] }),
  });
  if (response.status !== 201) throw new Error(`credential ${index}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Login;
}

/** CONNECT/CONNACK/DISCONNECT in `parallel` loops for `seconds`, each with the next login. */
async function connectRate(port: number, logins: Login[], seconds: number, parallel = 8): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < deadline) {
        (await BenchClient.connect(port, clientId(), true, logins[done++ % logins.length])).close();
      }
    }),
  );
  return round(done / ((performance.now() - start) / 1000), 0);
}

/** Every login once, `parallel` at a time: the first connection of each device. */
async function firstConnects(port: number, logins: Login[], parallel = 8): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < logins.length; i = next++) (await BenchClient.connect(port, clientId(), true, logins[i])).close();
    }),
  );
  return round(logins.length / ((performance.now() - start) / 1000), 0);
}

/** QoS 1 publishes, 64 in flight, acknowledged per second. */
async function publishRate(port: number, login: Login, prefix: string, messages: number): Promise<number> {
  const client = await BenchClient.connect(port, clientId(), true, login);
  const payload = Buffer.alloc(64, 0x61);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = next++; i < messages; i = next++) await client.publish(`${prefix}/t${i % 1000}`, payload, 1);
    }),
  );
  const rate = round(messages / ((performance.now() - start) / 1000), 0);
  client.close();
  return rate;
}

/** HTTP ingest: `messages` in requests of `batch`, `parallel` requests at a time; messages per second. */
async function ingestRate(base: string, login: Login, prefix: string, messages: number, batch: number, parallel = 8): Promise<number> {
  const authorization = 'Basic ' + Buffer.from(`${login.username}:${login.password}`).toString('base64');
  const payload = 'a'.repeat(64);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next; i < messages; i = next) {
        next += batch;
        const body = Array.from({ length: Math.min(batch, messages - i) }, (_, k) => ({ topic: `${prefix}/t${(i + k) % 1000}`, payload, qos: 1 }));
        const response = await fetch(`${base}/mqtt-ingest`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (response.status !== 202) throw new Error(`ingest: ${response.status} ${await response.text()}`);
      }
    }),
  );
  return round(messages / ((performance.now() - start) / 1000), 0);
}

export async function devices(instance: HarperInstance, rounds: number, messages: number, log: (message: string) => void) {
  const { ports, adminUser, adminPassword } = instance.info;
  const base = `http://127.0.0.1:${ports.http}`;
  const admin: Login = { username: adminUser, password: adminPassword };
  const adminHeader = 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64');
  const logins: Login[] = [];
  for (let i = 0; i < DEVICES; i++) logins.push(await generate(base, adminHeader, i));
  log(`devices: ${DEVICES} credentials generated`);
  const first = await firstConnects(ports.mqtt, logins);
  // HarperDB caches a verified password per thread: warm a few devices on every thread, then
  // measure connections of those (what reconnects cost once a device is known).
  const warm = logins.slice(0, 4);
  for (let i = 0; i < 10; i++) await firstConnects(ports.mqtt, warm, 4);
  const connects = { admin: [] as number[], device: [] as number[] };
  const publishes = { admin: [] as number[], device: [] as number[] };
  const ingest = { single: [] as number[], batch100: [] as number[] };
  const device = logins[0]!;
  const devicePrefix = `fleet/${device.username}`;
  for (let round_ = 0; round_ < rounds; round_++) {
    // Alternate which goes first, so drift on a shared machine hits both alike.
    const pairs: Array<[() => Promise<void>, () => Promise<void>]> = [
      [async () => void connects.admin.push(await connectRate(ports.mqtt, [admin], 3)), async () => void connects.device.push(await connectRate(ports.mqtt, warm, 3))],
      [
        async () => void publishes.admin.push(await publishRate(ports.mqtt, admin, `bench/admin${round_}`, messages)),
        async () => void publishes.device.push(await publishRate(ports.mqtt, device, `${devicePrefix}/r${round_}`, messages)),
      ],
    ];
    for (const [first, second] of pairs) for (const step of round_ % 2 ? [second, first] : [first, second]) await step();
    ingest.single.push(await ingestRate(base, device, `${devicePrefix}/i${round_}`, Math.min(messages, 3000), 1));
    ingest.batch100.push(await ingestRate(base, device, `${devicePrefix}/b${round_}`, messages, 100));
    log(`devices round ${round_ + 1}: ${JSON.stringify({ connects, publishes, ingest })}`);
  }
  const m = (values: number[]) => median(values);
  return {
    devices: DEVICES,
    /** Each device's first connection: HarperDB verifies its password hash (argon2id with npm start). */
    firstConnectPerSecond: first,
    /** Later connections of known devices against the admin's. */
    connectsPerSecond: { admin: m(connects.admin), device: m(connects.device), ratio: round(m(connects.device) / m(connects.admin), 2) },
    qos1PublishesPerSecond: { admin: m(publishes.admin), deviceUnderPrefix: m(publishes.device), ratio: round(m(publishes.device) / m(publishes.admin), 2) },
    httpIngestPerSecond: {
      single: m(ingest.single),
      batch100: m(ingest.batch100),
      singleVsMqttQos1: round(m(ingest.single) / m(publishes.device), 2),
      batch100VsMqttQos1: round(m(ingest.batch100) / m(publishes.device), 2),
    },
    raw: { connects, publishes, ingest },
  };
}
