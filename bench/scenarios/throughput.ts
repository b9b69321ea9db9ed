// Publish -> deliver throughput (closed loop: a window of unacknowledged QoS 1 publishes) and
// latency under a fixed, sustainable rate (open loop).
import { performance } from 'node:perf_hooks';
import { BenchClient } from '../client.js';
import { percentiles, round, type Percentiles } from '../stats.js';

export interface Target {
  name: string;
  /** Topic of message i. */
  topic(i: number): string;
  /** Filter that receives every topic(i). */
  filter: string;
}

export interface ThroughputResult {
  delivered: number;
  perSecond: number;
  latencyMs: Percentiles;
}

let clientCount = 0;
const MAGIC = 0x424e4348; // "BNCH": marks benchmark payloads, so retained rows of other runs are ignored

const stamp = (size: number) => {
  const payload = Buffer.alloc(Math.max(12, size), 0x61);
  payload.writeUInt32LE(MAGIC, 0);
  payload.writeDoubleLE(performance.now(), 4);
  return payload;
};

async function subscriber(port: number, filter: string) {
  const client = await BenchClient.connect(port, `bench-sub-${++clientCount}`);
  const latencies: number[] = [];
  client.listen((_topic, payload) => {
    if (payload.length >= 12 && payload.readUInt32LE(0) === MAGIC) latencies.push(performance.now() - payload.readDoubleLE(4));
  });
  await client.subscribe(filter, 0);
  return { client, latencies };
}

/** `messages` QoS 1 publishes with at most `window` unacknowledged; measured until the last delivery. */
export async function closedLoop(port: number, target: Target, messages: number, window = 64, payloadSize = 64): Promise<ThroughputResult> {
  const { client: sub, latencies } = await subscriber(port, target.filter);
  const pub = await BenchClient.connect(port, `bench-pub-${++clientCount}`);
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < messages) {
      const i = next++;
      await pub.publish(target.topic(i), stamp(payloadSize), 1);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return finish({ sub, pub, latencies, expected: messages, start, timeoutMs: 60_000 });
}

/** Waits for the deliveries (or the timeout), closes both clients and sums up. */
async function finish(run: { sub: BenchClient; pub: BenchClient; latencies: number[]; expected: number; start: number; timeoutMs: number }): Promise<ThroughputResult> {
  const { latencies } = run;
  const deadline = performance.now() + run.timeoutMs;
  while (latencies.length < run.expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  const seconds = (performance.now() - run.start) / 1000;
  run.pub.close();
  run.sub.close();
  return { delivered: latencies.length, perSecond: round(latencies.length / seconds, 0), latencyMs: percentiles(latencies) };
}

/** `rate` messages per second for `seconds`, each published without waiting for the previous one. */
export async function openLoop(port: number, target: Target, rate: number, seconds: number, payloadSize = 64): Promise<ThroughputResult> {
  const { client: sub, latencies } = await subscriber(port, target.filter);
  const pub = await BenchClient.connect(port, `bench-pub-${++clientCount}`);
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(pub.publish(target.topic(i), stamp(payloadSize), 1));
  }
  await Promise.all(pending);
  return finish({ sub, pub, latencies, expected: total, start, timeoutMs: 30_000 });
}
