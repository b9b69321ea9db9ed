// The message path, measured the same way against any broker port (HarperDB's own MQTT server,
// this component, Mosquitto): fan-in at QoS 0 and 1 (4 publishers, 1,000 topics, 64-byte payloads,
// one wildcard subscriber), fan-out to 50 subscribers, retained publishes, connections per second,
// and latency at a fixed 1,000 messages per second.
import { performance } from 'node:perf_hooks';
import { BenchClient } from '../client.js';
import { percentiles, round, type Percentiles } from '../stats.js';

export interface Broker {
  name: string;
  port: number;
  /** Topic prefix this broker serves (HarperDB's own server only serves its exported table). */
  prefix: string;
  /** The broker's process, to wait for it to be idle between rounds. */
  pid?: () => number | undefined;
}

export interface RateResult {
  messages: number;
  delivered: number;
  perSecond: number;
  latencyMs: Percentiles;
}

const MAGIC = 0x57495245; // "WIRE"
let ids = 0;
const clientId = (what: string) => `wire-${what}-${process.pid}-${++ids}`;

function stamped(size = 64): Buffer {
  const payload = Buffer.alloc(size, 0x61);
  payload.writeUInt32LE(MAGIC, 0);
  payload.writeDoubleLE(performance.now(), 4);
  return payload;
}

/** Subscribers that record the latency of every stamped message they get. */
async function subscribers(broker: Broker, filter: string, count: number) {
  const latencies: number[] = [];
  const clients = await Promise.all(
    Array.from({ length: count }, async () => {
      const client = await BenchClient.connect(broker.port, clientId('sub'));
      client.listen((_topic, payload) => {
        if (payload.length >= 12 && payload.readUInt32LE(0) === MAGIC) latencies.push(performance.now() - payload.readDoubleLE(4));
      });
      await client.subscribe(filter, 1);
      return client;
    }),
  );
  return { clients, latencies };
}

async function waitForDeliveries(latencies: number[], expected: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let lastChange = performance.now();
  while (latencies.length < expected && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (latencies.length !== last) {
      last = latencies.length;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 5000) return; // nothing more is coming
  }
}

/**
 * `messages` in all from `publishers` clients to 1,000 topics under the prefix, one subscriber on
 * `prefix/#`. QoS 1: each publisher keeps `window` unacknowledged; QoS 0: as fast as its socket takes them.
 */
export async function fanIn(broker: Broker, qos: 0 | 1, messages: number, publishers = 4, window = 64): Promise<RateResult> {
  const run = `${broker.prefix}/fi${++ids}`;
  const { clients: subs, latencies } = await subscribers(broker, `${run}/#`, 1);
  const pubs = await Promise.all(Array.from({ length: publishers }, () => BenchClient.connect(broker.port, clientId('pub'))));
  let next = 0;
  const start = performance.now();
  const worker = async (pub: BenchClient) => {
    for (let i = next++; i < messages; i = next++) await pub.publish(`${run}/t${i % 1000}`, stamped(), qos);
  };
  await Promise.all(pubs.flatMap((pub) => Array.from({ length: qos === 1 ? window : 1 }, () => worker(pub))));
  await waitForDeliveries(latencies, messages, 120_000);
  const seconds = (performance.now() - start) / 1000;
  for (const client of [...pubs, ...subs]) client.close();
  return { messages, delivered: latencies.length, perSecond: round(latencies.length / seconds, 0), latencyMs: percentiles(latencies) };
}

/** One publisher, `subscribers` clients on the same filter: deliveries per second (QoS 0). */
export async function fanOut(broker: Broker, messages: number, subscriberCount = 50): Promise<RateResult> {
  const run = `${broker.prefix}/fo${++ids}`;
  const { clients: subs, latencies } = await subscribers(broker, `${run}/#`, subscriberCount);
  const pub = await BenchClient.connect(broker.port, clientId('pub'));
  const start = performance.now();
  for (let i = 0; i < messages; i++) await pub.publish(`${run}/t${i % 100}`, stamped(), 0);
  await waitForDeliveries(latencies, messages * subscriberCount, 120_000);
  const seconds = (performance.now() - start) / 1000;
  for (const client of [pub, ...subs]) client.close();
  return { messages: messages * subscriberCount, delivered: latencies.length, perSecond: round(latencies.length / seconds, 0), latencyMs: percentiles(latencies) };
}

/** QoS 1 retained publishes to `topics` topics (replaced over and over), 64 in flight: acknowledged per second. */
export async function retained(broker: Broker, messages: number, topics = 1000): Promise<{ perSecond: number }> {
  const run = `${broker.prefix}/rt${++ids}`;
  const pub = await BenchClient.connect(broker.port, clientId('pub'));
  // The topics' tables exist before the measurement (their creation is measured elsewhere).
  await Promise.all(Array.from({ length: Math.min(topics, 100) }, (_, i) => pub.publish(`${run}/t${i}`, stamped(), 1, true)));
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    for (let i = next++; i < messages; i = next++) await pub.publish(`${run}/t${i % topics}`, stamped(), 1, true);
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const perSecond = round(messages / ((performance.now() - start) / 1000), 0);
  pub.close();
  return { perSecond };
}

/** CONNECT, CONNACK, DISCONNECT over `parallel` loops for `seconds`: connections per second. */
export async function connects(broker: Broker, seconds: number, parallel = 8): Promise<{ perSecond: number; failed: number }> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const loop = async () => {
    while (performance.now() < deadline) {
      try {
        const client = await BenchClient.connect(broker.port, clientId('c'));
        client.close();
        done++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  return { perSecond: round(done / ((performance.now() - start) / 1000), 0), failed };
}

/**
 * A fixed `rate` of QoS 1 publishes to 100 topics for `seconds`: delivery latency. Each topic gets
 * one message first, not measured, so the latency is that of topics in use (the first publish to a
 * new topic creates its table: the fleet and scale scenarios measure that).
 */
export async function latencyAt(broker: Broker, rate: number, seconds: number): Promise<RateResult> {
  const run = `${broker.prefix}/lt${++ids}`;
  const { clients: subs, latencies } = await subscribers(broker, `${run}/#`, 1);
  const pub = await BenchClient.connect(broker.port, clientId('pub'));
  await Promise.all(Array.from({ length: 100 }, (_, i) => pub.publish(`${run}/t${i}`, stamped(), 1)));
  await waitForDeliveries(latencies, 100, 10_000);
  latencies.length = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(pub.publish(`${run}/t${i % 100}`, stamped(), 1));
  }
  await Promise.all(pending);
  await waitForDeliveries(latencies, total, 30_000);
  for (const client of [pub, ...subs]) client.close();
  return { messages: total, delivered: latencies.length, perSecond: round(latencies.length / seconds, 0), latencyMs: percentiles(latencies) };
}
