// A fleet under one table rule (issue 7): `devices` devices x 3 metrics under
// org/+org/devices/+device/+metric, each topic's first message a QoS 1 retained PUBLISH. Measures
// the new-topic rate against the same publishes on existing topics, memory, restart time, REST
// queries by column, and a new `#` subscriber receiving every retained message, with Mosquitto
// doing the same in the same run.
import { performance } from 'node:perf_hooks';
import type { HarperInstance } from '../../src/cli/instance.js';
import { Mosquitto } from '../../src/cli/mosquitto.js';
import { BenchClient } from '../client.js';
import { percentiles, round, rssMiB, type Percentiles } from '../stats.js';

export const FLEET_RULE = { pattern: 'org/+org/devices/+device/+metric', table: 'device_metrics', columns: { temperature: 'Float' } };
const METRICS = ['temp', 'humidity', 'battery'];
const ORGS = 100;

const topicOf = (i: number) => {
  const device = Math.floor(i / METRICS.length);
  return `org/o${device % ORGS}/devices/d${String(device).padStart(6, '0')}/${METRICS[i % METRICS.length]}`;
};
const payloadOf = (i: number, round_: number) => Buffer.from(`{"temperature":${((i * 7 + round_) % 600) / 10},"n":${i}}`);

export interface FleetResult {
  devices: number;
  topics: number;
  newTopicsPerSecond: number;
  existingTopicsPerSecond: number;
  /** New topics against existing ones (target >= 0.8). */
  newToExistingRatio: number;
  rssMiB: { before: number; afterNewTopics: number; afterRestart: number };
  restartUntilServingSeconds: number;
  deviceQueryMs: Percentiles;
  metricQuery: { rows: number; seconds: number };
  retainedToNewSubscriber: { component: { messages: number; seconds: number }; mosquitto: { messages: number; seconds: number }; ratio: number };
  mosquittoNewTopicsPerSecond: number;
}

/** Publishes topics 0..count-1 from `clients` connections with `inFlight` QoS 1 messages each; returns messages per second. */
async function publishAll(port: number, count: number, round_: number, log: (message: string) => void, clients = 4, inFlight = 32): Promise<number> {
  const connections = await Promise.all(Array.from({ length: clients }, (_, c) => BenchClient.connect(port, `fleet-${round_}-${c}-${Date.now()}`)));
  let next = 0;
  const start = performance.now();
  const worker = async (client: BenchClient) => {
    for (let i = next++; i < count; i = next++) {
      await client.publish(topicOf(i), payloadOf(i, round_), 1, true);
      if ((i + 1) % 50_000 === 0) log(`${i + 1} published (${round(((i + 1) / (performance.now() - start)) * 1000, 0)}/s)`);
    }
  };
  await Promise.all(connections.flatMap((client) => Array.from({ length: inFlight }, () => worker(client))));
  const perSecond = count / ((performance.now() - start) / 1000);
  for (const client of connections) client.close();
  return round(perSecond, 0);
}

/** A new `#` subscriber: seconds until it has received `expected` retained messages. */
async function retainedToNewSubscriber(port: number, expected: number): Promise<{ messages: number; seconds: number }> {
  const client = await BenchClient.connect(port, `fleet-reader-${Date.now()}`);
  let received = 0;
  client.listen(() => received++);
  const start = performance.now();
  await client.subscribe('#', 0);
  const deadline = start + 600_000;
  let last = -1;
  let lastChange = performance.now();
  while (received < expected && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (received !== last) {
      last = received;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 10_000) break; // nothing more is coming
  }
  const seconds = round((performance.now() - start) / 1000, 2);
  client.close();
  return { messages: received, seconds };
}

export async function fleet(instance: HarperInstance, devices: number, log: (message: string) => void): Promise<FleetResult> {
  const { mqtt: port, http } = instance.info.ports;
  const topics = devices * METRICS.length;
  const before = await rssMiB(instance.pid);
  log(`fleet: ${topics} new retained topics`);
  const newTopicsPerSecond = await publishAll(port, topics, 0, log);
  const afterNewTopics = await rssMiB(instance.pid);
  log(`fleet: the same ${topics} topics again`);
  const existingTopicsPerSecond = await publishAll(port, topics, 1, log);

  const deviceTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const device = `d${String((i * 7919) % devices).padStart(6, '0')}`;
    const started = performance.now();
    const rows = (await (await fetch(`http://127.0.0.1:${http}/device_metrics/?device=${device}&select(topic,temperature)`)).json()) as unknown[];
    deviceTimes.push(performance.now() - started);
    if (rows.length !== METRICS.length) throw new Error(`device ${device}: ${rows.length} rows`);
  }
  const metricStart = performance.now();
  const tempRows = (await (await fetch(`http://127.0.0.1:${http}/device_metrics/?metric=temp&select(device,temperature)`)).json()) as unknown[];
  const metricQuery = { rows: tempRows.length, seconds: round((performance.now() - metricStart) / 1000, 2) };

  log('fleet: a new # subscriber');
  const component = await retainedToNewSubscriber(port, topics);

  log('fleet: restart');
  await instance.stop();
  const restartStart = performance.now();
  await instance.start();
  const restartUntilServingSeconds = round((performance.now() - restartStart) / 1000, 1);
  const afterRestart = await rssMiB(instance.pid);

  log('fleet: the same with Mosquitto');
  const mosquitto = await Mosquitto.start();
  let mosquittoResult: { messages: number; seconds: number };
  let mosquittoNewTopicsPerSecond: number;
  try {
    mosquittoNewTopicsPerSecond = await publishAll(mosquitto.port, topics, 0, log);
    mosquittoResult = await retainedToNewSubscriber(mosquitto.port, topics);
  } finally {
    await mosquitto.stop();
  }
  return {
    devices,
    topics,
    newTopicsPerSecond,
    existingTopicsPerSecond,
    newToExistingRatio: round(newTopicsPerSecond / existingTopicsPerSecond, 3),
    rssMiB: { before, afterNewTopics, afterRestart },
    restartUntilServingSeconds,
    deviceQueryMs: percentiles(deviceTimes),
    metricQuery,
    retainedToNewSubscriber: { component, mosquitto: mosquittoResult, ratio: round(mosquittoResult.seconds / component.seconds, 3) },
    mosquittoNewTopicsPerSecond,
  };
}
