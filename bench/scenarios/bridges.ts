// Bridges (issue #10): outbound QoS 1 messages/s from HarperDB to a local Mosquitto through a
// bridge, as a ratio to a plain MQTT.js client publishing the same messages to that Mosquitto
// (MQTT 5 like the bridge, so the same Receive Maximum applies; 64 in flight asked): end to end
// (local publish to remote delivery) and for the bridge alone (a backlog built during an outage,
// delivered when the remote is back). Also the cost of an active bridge on local QoS 1 publishes.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import type { HarperInstance } from '../../src/cli/instance.js';
import type { Mosquitto } from '../../src/cli/mosquitto.js';
import { round } from '../stats.js';

const IN_FLIGHT = 64;

async function connected(port: number, clientId: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> {
  const client = mqtt.connect({ host: '127.0.0.1', port, clientId, reconnectPeriod: 300, clean: true, protocolVersion });
  await new Promise<void>((resolve, reject) => (client.once('connect', () => resolve()), client.once('error', reject)));
  return client;
}

const ARRIVAL_TIMEOUT_MS = 120_000;

/** Publishes `count` QoS 1 messages, IN_FLIGHT at a time; resolves when all are acknowledged. */
async function publishAll(client: MqttClient, topic: string, count: number): Promise<void> {
  const payload = Buffer.alloc(64, 0x61);
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await client.publishAsync(topic, payload, { qos: 1 }).then(() => next++, () => undefined).then(() => undefined);
  }));
}

/** When the first and the last of `count` messages under `prefix` arrived. */
function arrivals(sub: MqttClient, prefix: string, count: number): Promise<{ first: number; last: number }> {
  let got = 0;
  let first = 0;
  return new Promise((resolve, reject) => {
    // A lost message must end the bench with a reason, not hang it.
    const timer = setTimeout(() => reject(new Error(`only ${got} of ${count} messages under ${prefix} arrived within ${ARRIVAL_TIMEOUT_MS / 1000} s`)), ARRIVAL_TIMEOUT_MS);
    sub.on('message', (topic) => {
      if (!topic.startsWith(prefix)) return;
      if (++got === 1) first = performance.now();
      if (got === count) {
        clearTimeout(timer);
        resolve({ first, last: performance.now() });
      }
    });
  });
}

/** Resolves when `count` messages arrived on `filter`, with the time of the last one. */
function expect(sub: MqttClient, prefix: string, count: number): Promise<number> {
  return arrivals(sub, prefix, count).then(({ last }) => last);
}

export async function bridges(instance: HarperInstance, mosquitto: Mosquitto, messages: number, say: (message: string) => void): Promise<Record<string, number>> {
  const base = `http://127.0.0.1:${instance.info.ports.http}`;
  const response = await fetch(`${base}/mqtt_bridges/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', url: `mqtt://127.0.0.1:${mosquitto.port}`, inflight: IN_FLIGHT, outbound: [{ filter: 'bench/#', remoteTopic: 'bridged/${topic}' }] }),
  });
  if (response.status !== 201) throw new Error(`adding the bridge: ${response.status} ${await response.text()}`);
  // The same at QoS 2: each exchange is written to the in-flight table (PUBLISH, then PUBREL).
  const qos2 = await fetch(`${base}/mqtt_bridges/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench2', url: `mqtt://127.0.0.1:${mosquitto.port}`, inflight: IN_FLIGHT, outbound: [{ filter: 'bench2/#', remoteTopic: 'bridged2/${topic}', qos: 2 }] }),
  });
  if (qos2.status !== 201) throw new Error(`adding the QoS 2 bridge: ${qos2.status} ${await qos2.text()}`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const sub = await connected(mosquitto.port, 'bench-remote-sub');
  await sub.subscribeAsync(['bridged/#', 'direct/#'], { qos: 1 });
  await sub.subscribeAsync('bridged2/#', { qos: 2 });

  const direct = await connected(mosquitto.port, 'bench-direct', 5);
  const directDone = expect(sub, 'direct/', messages);
  let start = performance.now();
  await publishAll(direct, 'direct/x', messages);
  const directRate = messages / (((await directDone) - start) / 1000);
  say(`direct to Mosquitto: ${round(directRate, 0)} messages/s`);

  const local = await connected(instance.info.ports.mqtt, 'bench-local');
  // Local QoS 1 publishes no rule matches, then ones the bridge forwards: the bridge's cost here.
  start = performance.now();
  await publishAll(local, 'unbridged/x', messages);
  const unbridgedLocalRate = messages / ((performance.now() - start) / 1000);
  const bridgedDone = expect(sub, 'bridged/', messages);
  start = performance.now();
  await publishAll(local, 'bench/x', messages);
  const bridgedLocalRate = messages / ((performance.now() - start) / 1000);
  const bridgedRate = messages / (((await bridgedDone) - start) / 1000);
  say(`through the bridge: ${round(bridgedRate, 0)} messages/s (ratio ${round(bridgedRate / directRate, 2)})`);

  // Outage: the backlog is published while Mosquitto is down, then delivered when it is back.
  await mosquitto.pause();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await publishAll(local, 'bench/backlog', messages);
  const backlogArrivals = arrivals(sub, 'bridged/bench/backlog', messages);
  start = performance.now();
  await mosquitto.resume();
  const caughtUp = await pendingDrained(base);
  const recoveryMs = caughtUp - start;
  // Recovery includes Mosquitto starting, the bridge's next reconnect attempt (every second) and
  // the status being saved; the transfer is first to last arrival at the remote subscriber.
  const { first, last } = await backlogArrivals;
  const transferRate = (messages - 1) / ((last - first) / 1000);
  say(`after an outage: ${messages} messages delivered ${round(recoveryMs, 0)} ms after the remote came back (${round(messages / (recoveryMs / 1000), 0)} messages/s); the first arrived after ${round(first - start, 0)} ms, then ${round(transferRate, 0)} messages/s (ratio ${round(transferRate / directRate, 2)})`);
  // A second outage with a QoS 2 backlog: each exchange is written to the in-flight table (PUBLISH, then PUBREL).
  await mosquitto.pause();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await publishAll(local, 'bench2/backlog', messages);
  const qos2Arrivals = arrivals(sub, 'bridged2/bench2/backlog', messages);
  await mosquitto.resume();
  const qos2Span = await qos2Arrivals;
  const qos2Rate = (messages - 1) / ((qos2Span.last - qos2Span.first) / 1000);
  say(`the same backlog at QoS 2 (in-flight exchanges kept in a table): ${round(qos2Rate, 0)} messages/s (ratio to the QoS 1 catch-up ${round(qos2Rate / transferRate, 2)})`);
  for (const client of [sub, direct, local]) await client.endAsync(true);
  const catchUp = messages / (recoveryMs / 1000);
  return {
    directPerSecond: round(directRate, 0),
    bridgedPerSecond: round(bridgedRate, 0),
    ratio: round(bridgedRate / directRate, 2),
    backlog: messages,
    recoveryMs: round(recoveryMs, 0),
    catchUpPerSecond: round(catchUp, 0),
    catchUpRatio: round(catchUp / directRate, 2),
    catchUpFirstArrivalMs: round(first - start, 0),
    catchUpTransferPerSecond: round(transferRate, 0),
    catchUpTransferRatio: round(transferRate / directRate, 2),
    catchUpQos2TransferPerSecond: round(qos2Rate, 0),
    localPublishesPerSecond: round(unbridgedLocalRate, 0),
    localPublishesBridgedPerSecond: round(bridgedLocalRate, 0),
    activeBridgeCostRatio: round(bridgedLocalRate / unbridgedLocalRate, 2),
  };
}

/** Polls the bridge's status until nothing is pending; the time it saw that. */
async function pendingDrained(base: string): Promise<number> {
  for (;;) {
    const status = (await (await fetch(`${base}/mqtt_bridges/bench`)).json()) as { status: { connected: boolean; pending: { messages: number } } };
    if (status.status.connected && status.status.pending.messages === 0) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
