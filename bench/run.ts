// npm run --silent bench [-- --wire] [--devices] [--only=wire|fleet|sys|scale|devices|sources|bridges,...] [--scale[=10000]] [--fleet[=100000]] [--sys] [--sources[=seconds]] [--sources-kill] [--rounds=5] [--messages=20000]
// Runs HarperDB instances side by side in one run and prints one JSON document on stdout.
// Progress goes to stderr; the JSON is also saved under bench/results/. Shared machines are
// noisy: compare ratios within one run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pino from 'pino';
import { HarperInstance } from '../src/cli/instance.js';
import { Mosquitto } from '../src/cli/mosquitto.js';
import { bridges } from './scenarios/bridges.js';
import { devices } from './scenarios/devices.js';
import { firstMessage } from './scenarios/firstMessage.js';
import { messagePath } from './scenarios/messagePath.js';
import { fleet, FLEET_RULE } from './scenarios/fleet.js';
import { scale } from './scenarios/scale.js';
import { BENCH_SOURCES, sources } from './scenarios/sources.js';
import { closedLoop, openLoop, type Target, type ThroughputResult } from './scenarios/throughput.js';
import { median, round } from './stats.js';

const log = pino({ name: 'bench', base: undefined }, pino.destination(2));
const args = new Map<string, string | undefined>(process.argv.slice(2).map((arg) => { const [key, value] = arg.replace(/^--/, '').split('='); return [key!, value]; }));
const rounds = Number(args.get('rounds') ?? 5);
const messages = Number(args.get('messages') ?? 20_000);
// --only=a,b runs just those parts (wire, throughput, sys, scale, fleet, devices, bridges); --only-sys and --only-fleet are its old spellings.
const only = new Set((args.get('only') ?? '').split(',').filter(Boolean));
if (args.has('only-sys')) only.add('sys');
if (args.has('only-fleet')) only.add('fleet');
const part = (name: string, flagged: boolean) => (only.size > 0 ? only.has(name) : flagged);
const throughput = part('throughput', true);
const scaleCount = part('scale', args.has('scale')) ? Number(args.get('scale') ?? 10_000) : 0;
const fleetDevices = part('fleet', args.has('fleet')) ? Number(args.get('fleet') ?? 100_000) : 0;
const wire = part('wire', args.has('wire'));
const sysOverhead = part('sys', args.has('sys'));
const devicesPart = part('devices', args.has('devices'));
const sourceSeconds = part('sources', args.has('sources')) ? Number(args.get('sources') ?? 30) : 0;
const bridgesPart = part('bridges', args.has('bridges'));

// The same shape of topic on both paths: a table exported in schema.graphql (HarperDB's own MQTT
// routing) and a topic served by this component.
const NATIVE: Target = { name: 'native @export table', topic: (i) => `native/r${i % 100}`, filter: 'native/#' };
const COMPONENT: Target = { name: 'component topic table', topic: (i) => `bench/r${i % 100}`, filter: 'bench/#' };

interface Comparison {
  native: { perSecond: number[]; latencyP50: number[]; latencyP99: number[] };
  component: { perSecond: number[]; latencyP50: number[]; latencyP99: number[] };
  throughputRatio: number;
  openLoop: { rate: number; native: ThroughputResult; component: ThroughputResult };
}

async function compare(instance: HarperInstance, label: string): Promise<Comparison> {
  const port = instance.info.ports.mqtt;
  const series = () => ({ perSecond: [] as number[], latencyP50: [] as number[], latencyP99: [] as number[] });
  const result = { native: series(), component: series() };
  // Warm both paths (tables, JIT) before measuring.
  await closedLoop(port, NATIVE, 2000);
  await closedLoop(port, COMPONENT, 2000);
  for (let round_ = 0; round_ < rounds; round_++) {
    // Alternate which goes first, so drift on a shared machine hits both alike.
    const order: Array<['native' | 'component', Target]> = round_ % 2 ? [['component', COMPONENT], ['native', NATIVE]] : [['native', NATIVE], ['component', COMPONENT]];
    for (const [key, target] of order) {
      const measured = await closedLoop(port, target, messages);
      log.info({ label, round: round_ + 1, target: target.name, ...measured }, 'closed loop');
      result[key].perSecond.push(measured.perSecond);
      result[key].latencyP50.push(measured.latencyMs.p50);
      result[key].latencyP99.push(measured.latencyMs.p99);
    }
  }
  const rate = Math.round(median(result.native.perSecond) / 4);
  const nativeOpen = await openLoop(port, NATIVE, rate, 5);
  const componentOpen = await openLoop(port, COMPONENT, rate, 5);
  log.info({ label, rate, native: nativeOpen.latencyMs, component: componentOpen.latencyMs }, 'open loop');
  return {
    ...result,
    throughputRatio: round(median(result.component.perSecond) / median(result.native.perSecond), 3),
    openLoop: { rate, native: nativeOpen, component: componentOpen },
  };
}

async function withInstance<T>(env: NodeJS.ProcessEnv, run: (instance: HarperInstance) => Promise<T>): Promise<T> {
  // HarperDB's own MQTT server on a port of its own, serving the fixture app's @export table: "native".
  const instance = await HarperInstance.create({ threads: 2, env, apps: ['test/fixtures/native-app'], harperMqtt: true });
  try {
    await instance.start();
    return await run(instance);
  } finally {
    await instance.destroy();
  }
}

const report: Record<string, unknown> = {
  environment: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, harperdb: '4.7.29', threads: 2, rounds, messages },
};

if (throughput) {
  log.info('history off: native vs component');
  report.historyOff = await withInstance({ MQTT_BRIDGE_HISTORY_TTL: '0' }, async (instance) => ({
    ...(await compare(instance, 'history off')),
    firstMessage: await firstMessage(instance.info.ports.mqtt),
  }));

  log.info('history on (24 h): native vs component');
  report.historyOn = await withInstance({ MQTT_BRIDGE_HISTORY_TTL: '24h' }, (instance) => compare(instance, 'history on'));
}

if (sysOverhead) {
  // Two instances up at once, measured in alternate rounds: $SYS refreshed every second (ten
  // times the default rate) against $SYS off. History is off in both, to isolate the updater.
  log.info('$SYS: sysInterval 1 vs 0');
  report.sys = await withInstance({ MQTT_BRIDGE_HISTORY_TTL: '0', MQTT_BRIDGE_SYS_INTERVAL: '1' }, (on) =>
    withInstance({ MQTT_BRIDGE_HISTORY_TTL: '0', MQTT_BRIDGE_SYS_INTERVAL: '0' }, async (off) => {
      const perSecond = { sysInterval1: [] as number[], sysInterval0: [] as number[] };
      const targets: Array<[keyof typeof perSecond, HarperInstance]> = [['sysInterval1', on], ['sysInterval0', off]];
      for (const [, instance] of targets) await closedLoop(instance.info.ports.mqtt, COMPONENT, 2000);
      for (let round_ = 0; round_ < rounds; round_++) {
        for (const [key, instance] of round_ % 2 ? [...targets].reverse() : targets) {
          const measured = await closedLoop(instance.info.ports.mqtt, COMPONENT, messages);
          log.info({ round: round_ + 1, target: key, ...measured }, 'closed loop');
          perSecond[key].push(measured.perSecond);
        }
      }
      return { perSecond, throughputRatio: round(median(perSecond.sysInterval1) / median(perSecond.sysInterval0), 3) };
    }),
  );
}

if (scaleCount > 0) {
  log.info(`scale: ${scaleCount} topic tables`);
  // One client creates every table: the per-client and broker-wide creation limits are lifted.
  const unlimited = { MQTT_BRIDGE_TABLE_CREATION_RATE: '1000000', MQTT_BRIDGE_TABLE_CREATION_BURST: '1000000', MQTT_BRIDGE_MAX_TOPIC_TABLES: '0' };
  report.scale = await withInstance({ MQTT_BRIDGE_HISTORY_TTL: '0', ...unlimited }, (instance) => scale(instance, scaleCount, (message) => log.info(message)));
}

if (fleetDevices > 0) {
  log.info(`fleet: ${fleetDevices} devices under one table rule (history on, as shipped)`);
  report.fleet = await withInstance({ MQTT_BRIDGE_TOPIC_RULES: JSON.stringify([FLEET_RULE]) }, (instance) => fleet(instance, fleetDevices, (message) => log.info(message)));
}

if (sourceSeconds > 0) {
  log.info(`sources: ${BENCH_SOURCES.length} tables, 10,000 monitors, ${sourceSeconds} s of inserts${args.has('sources-kill') ? ', kill -9 halfway' : ''}`);
  report.sources = await withInstance({ MQTT_BRIDGE_SOURCES: JSON.stringify(BENCH_SOURCES), MQTT_BRIDGE_HISTORY_TTL: '0' }, (instance) =>
    sources(instance, { seconds: sourceSeconds, monitors: 10_000, rowsPerRequest: 100, kill: args.has('sources-kill'), log: (message) => log.info(message) }),
  );
}

/** Mosquitto drops QoS 1 messages past 1,000 queued for a client by default: the bench's fast publishers would lose some. */
function unboundedQueues(): string {
  return 'max_queued_messages 1000000';
}

if (wire) {
  log.info('message path: HarperDB own MQTT vs component vs Mosquitto (history on), and history on vs off');
  const mosquitto = await Mosquitto.start(unboundedQueues);
  try {
    report.messagePath = await withInstance({}, (withHistory) =>
      withInstance({ MQTT_BRIDGE_HISTORY_TTL: '0' }, (withoutHistory) => messagePath(withHistory, withoutHistory, mosquitto, { rounds: Math.min(rounds, 3), log: (message) => log.info(message) })),
    );
  } finally {
    await mosquitto.stop();
  }
}

if (devicesPart) {
  log.info('devices: credentials vs admin (connects, QoS 1 publishes), HTTP ingest vs MQTT QoS 1 (history on)');
  report.devices = await withInstance({}, (instance) => devices(instance, Math.min(rounds, 3), Math.min(messages, 10_000), (message) => log.info(message)));
}

if (bridgesPart) {
  log.info('bridges: outbound QoS 1 to a local Mosquitto through a bridge vs direct, catch-up after an outage');
  const mosquitto = await Mosquitto.start(unboundedQueues);
  try {
    report.bridges = await withInstance({}, (instance) => bridges(instance, mosquitto, Math.min(messages, 10_000), (message) => log.info(message)));
  } finally {
    await mosquitto.stop();
  }
}

const json = JSON.stringify(report, null, 2) + '\n';
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`, json);
process.stdout.write(json);
