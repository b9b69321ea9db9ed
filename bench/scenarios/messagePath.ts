// Issue 11's comparison: the wire scenarios against HarperDB's own MQTT server (same process, an
// app's @export table), this component, and Mosquitto, in alternating order each round; medians,
// and the component's ratios to the other two. Plus memory and bytes written per message.
import { execFileSync } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { generate, type Packet } from 'mqtt-packet';
import type { HarperInstance } from '../../src/cli/instance.js';
import type { Mosquitto } from '../../src/cli/mosquitto.js';
import { BenchClient } from '../client.js';
import { cpuMs, median, round, rssMiB, settled, writtenBytes } from '../stats.js';
import { connects, fanIn, fanOut, latencyAt, retained, type Broker } from './wire.js';

type Scenario = (broker: Broker) => Promise<number>;

export interface MessagePathOptions {
  rounds: number;
  log: (message: string) => void;
}

/**
 * Runs `scenario` on each broker, `rounds` times in alternating order; medians and ratios. With
 * `items` (messages or deliveries per round), also the CPU the broker's process spent per item
 * while the round ran (all its threads, from /proc), in µs.
 */
async function compare(brokers: Broker[], rounds: number, name: string, scenario: Scenario, log: (message: string) => void, items?: number) {
  const results: Record<string, number[]> = Object.fromEntries(brokers.map((b) => [b.name, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(brokers.map((b) => [b.name, []]));
  for (let round_ = 0; round_ < rounds; round_++) {
    const order = round_ % 2 ? [...brokers].reverse() : brokers;
    for (const broker of order) {
      const pid = broker.pid?.();
      const before = items && pid ? await cpuMs(pid) : NaN;
      const value = await scenario(broker);
      if (items && pid) cpu[broker.name]!.push(round(((await cpuMs(pid)) - before) * 1000 / items, 1));
      await settled(pid);
      results[broker.name]!.push(value);
      log(`${name} round ${round_ + 1} ${broker.name}: ${value}`);
    }
  }
  const medians = Object.fromEntries(Object.entries(results).map(([key, values]) => [key, median(values)]));
  const comparison: Record<string, unknown> = {
    values: results,
    medians,
    componentToHarper: round(medians.component! / medians.harper!, 2),
    componentToMosquitto: round(medians.component! / medians.mosquitto!, 2),
  };
  if (items) {
    const cpuMedians = Object.fromEntries(Object.entries(cpu).map(([key, values]) => [key, median(values)]));
    comparison.cpuUsPerItem = { values: cpu, medians: cpuMedians, componentToHarper: round(cpuMedians.component! / cpuMedians.harper!, 2) };
  }
  return comparison;
}

/** Bytes under the root's database folder (the LMDB files). */
function databaseBytes(instance: HarperInstance): number {
  return Number(execFileSync('du', ['-sb', join(instance.info.rootPath, 'database')], { encoding: 'utf8' }).split('\t')[0]);
}

/**
 * A subscriber that never reads (its socket paused) while `count` QoS 1 messages of `size` bytes
 * are published: RSS and bytes on disk afterwards, per 100,000 messages.
 */
export async function memory(port: number, prefix: string, count: number, size: number, pid: () => number | undefined, diskBytes?: () => number) {
  const socket = netConnect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `slow-${Date.now()}`, keepalive: 600 } as Packet));
  socket.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${prefix}/mem/#`, qos: 1 }] } as Packet));
  await new Promise((resolve) => setTimeout(resolve, 300));
  socket.pause();
  const rssBefore = await rssMiB(pid());
  const diskBefore = diskBytes?.() ?? 0;
  const pub = await BenchClient.connect(port, `mem-pub-${Date.now()}`);
  let next = 0;
  const payload = Buffer.alloc(size, 0x62);
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await pub.publish(`${prefix}/mem/t${i % 100}`, payload, 1);
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  pub.close();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rssAfter = await rssMiB(pid());
  const diskAfter = diskBytes?.() ?? 0;
  socket.destroy();
  const per100k = 100_000 / count;
  return {
    rssMiBPer100k: round((rssAfter - rssBefore) * per100k, 0),
    bytesWrittenPerMessage: diskBytes ? round((diskAfter - diskBefore) / count, 0) : null,
  };
}

export async function messagePath(withHistory: HarperInstance, withoutHistory: HarperInstance, mosquitto: Mosquitto, options: MessagePathOptions) {
  const { rounds, log } = options;
  const brokers: Broker[] = [
    { name: 'harper', port: withHistory.info.ports.harperMqtt!, prefix: 'native', pid: () => withHistory.pid },
    { name: 'component', port: withHistory.info.ports.mqtt, prefix: 'bench', pid: () => withHistory.pid },
    { name: 'mosquitto', port: mosquitto.port, prefix: 'bench', pid: () => mosquitto.pid },
  ];
  const perSecond = (scenario: (broker: Broker) => Promise<{ perSecond: number }>) => async (broker: Broker) => (await scenario(broker)).perSecond;
  const report: Record<string, unknown> = {};
  report.qos0FanIn = await compare(brokers, rounds, 'QoS 0 fan-in', perSecond((b) => fanIn(b, 0, 40_000)), log, 40_000);
  report.qos1FanIn = await compare(brokers, rounds, 'QoS 1 fan-in', perSecond((b) => fanIn(b, 1, 20_000)), log, 20_000);
  report.fanOut50 = await compare(brokers, rounds, 'fan-out 1->50', perSecond((b) => fanOut(b, 2_000)), log, 2_000 * 50);
  report.retainedQos1 = await compare(brokers, rounds, 'retained QoS 1', perSecond((b) => retained(b, 10_000)), log, 10_000);
  report.connects = await compare(brokers, rounds, 'connects', perSecond((b) => connects(b, 5)), log);
  report.p99At1000 = await compare(brokers, rounds, 'p99 at 1,000/s', async (b) => (await latencyAt(b, 1000, 10)).latencyMs.p99, log);

  // History on (as shipped) against off: the same QoS 1 fan-in on two instances, alternately.
  const history: Broker[] = [
    { name: 'on', port: withHistory.info.ports.mqtt, prefix: 'bench', pid: () => withHistory.pid },
    { name: 'off', port: withoutHistory.info.ports.mqtt, prefix: 'bench', pid: () => withoutHistory.pid },
  ];
  // A burst of 20,000 (the history is written right after it; the next round waits for that), and
  // a sustained 200,000 whose rate counts the time until the history is written. Both also give
  // the bytes the process wrote to storage per message, history on and off.
  const historyRounds = async (messages: number, untilWritten: boolean) => {
    const runs: Record<string, number[]> = { on: [], off: [] };
    const written: Record<string, number[]> = { on: [], off: [] };
    for (let round_ = 0; round_ < rounds; round_++) {
      for (const broker of round_ % 2 ? [...history].reverse() : history) {
        const start = performance.now();
        const bytesBefore = await writtenBytes(broker.pid?.());
        const { perSecond } = await fanIn(broker, 1, messages);
        await settled(broker.pid?.());
        const value = untilWritten ? round(messages / ((performance.now() - start) / 1000), 0) : perSecond;
        runs[broker.name]!.push(value);
        written[broker.name]!.push(round(((await writtenBytes(broker.pid?.())) - bytesBefore) / messages, 0));
        log(`history ${broker.name} ${messages} messages round ${round_ + 1}: ${value}`);
      }
    }
    const bytesWrittenPerMessage = { on: median(written.on!), off: median(written.off!) };
    return { values: runs, onToOff: round(median(runs.on!) / median(runs.off!), 2), bytesWrittenPerMessage };
  };
  report.history = await historyRounds(20_000, false);
  report.historySustained = await historyRounds(200_000, true);

  log('memory: 100,000 messages of 1 KB to a subscriber that does not read');
  report.memory = {
    component: await memory(withHistory.info.ports.mqtt, 'bench', 100_000, 1024, () => withHistory.pid, () => databaseBytes(withHistory)),
    mosquitto: await memory(mosquitto.port, 'bench', 100_000, 1024, () => mosquitto.pid),
  };
  return report;
}
