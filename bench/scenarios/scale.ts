// Many topic tables: create `count` of them (devices/dNNNNN/telemetry, one table per device),
// then restart and measure the boot, memory, and throughput over all of them.
import { performance } from 'node:perf_hooks';
import type { HarperInstance } from '../../src/cli/instance.js';
import { BenchClient } from '../client.js';
import { round, rssMiB } from '../stats.js';
import { closedLoop } from './throughput.js';

export interface ScaleResult {
  tables: number;
  /** Tables created per second, per block of 1000 (creation slows as tables accumulate). */
  creationPerSecond: number[];
  creationSeconds: number;
  rssMiB: { before: number; afterCreation: number; afterRestart: number };
  restartSeconds: number;
  tablesPerDatabase: Record<string, number>;
  throughputAfter: { perSecond: number; delivered: number; latencyMsP50: number; latencyMsP99: number };
  errors: string[];
}

const device = (n: number) => `devices/d${String(n).padStart(5, '0')}/telemetry`;

export async function scale(instance: HarperInstance, count: number, log: (message: string) => void): Promise<ScaleResult> {
  const { mqtt: port, http } = instance.info.ports;
  const before = await rssMiB(instance.pid);
  const client = await BenchClient.connect(port, 'scale-creator');
  const creationPerSecond: number[] = [];
  const start = performance.now();
  let blockStart = start;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await client.publish(device(n), Buffer.from(`{"n":${n}}`), 1, true);
      if ((n + 1) % 1000 === 0) {
        const now = performance.now();
        creationPerSecond.push(round(1000 / ((now - blockStart) / 1000), 1));
        log(`${n + 1} tables, ${round((now - start) / 1000, 0)} s`);
        blockStart = now;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const creationSeconds = round((performance.now() - start) / 1000, 1);
  client.close();
  const afterCreation = await rssMiB(instance.pid);

  const restartStart = performance.now();
  await instance.restart();
  const restartSeconds = round((performance.now() - restartStart) / 1000, 1);
  const afterRestart = await rssMiB(instance.pid);

  const rows = (await (await fetch(`http://127.0.0.1:${http}/mqtt_topics/?select(database)&limit(1000000)`)).json()) as string[];
  const tablesPerDatabase: Record<string, number> = {};
  for (const database of rows) tablesPerDatabase[database] = (tablesPerDatabase[database] ?? 0) + 1;

  const after = await closedLoop(port, { name: 'devices', topic: (i) => device((i * 7919) % count), filter: 'devices/+/telemetry/#' }, 20_000);
  const errors = instance.log.split('\n').filter((line) => /\[error\]|MDB_/.test(line)).slice(-5);
  return {
    tables: rows.length,
    creationPerSecond,
    creationSeconds,
    rssMiB: { before, afterCreation, afterRestart },
    restartSeconds,
    tablesPerDatabase,
    throughputAfter: { perSecond: after.perSecond, delivered: after.delivered, latencyMsP50: after.latencyMs.p50, latencyMsP99: after.latencyMs.p99 },
    errors,
  };
}
