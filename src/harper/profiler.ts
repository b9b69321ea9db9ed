// For measuring where time goes inside HarperDB's worker threads (docs/performance.md): with
// MQTT_BRIDGE_CPU_PROFILE=<folder>, each thread profiles itself (node:inspector) and writes a
// .cpuprofile every 10 seconds. `--cpu-prof` cannot: HarperDB terminates its workers, and a
// terminated worker writes no profile. Off unless the variable is set.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { nodeThreadId } from './thread.js';

const CHUNK_MS = 10_000;

export function profileThisThread(folder: string | undefined): void {
  if (!folder) return;
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as Record<string, unknown>))));
  let chunk = 0;
  const next = async () => {
    const { profile } = await post('Profiler.stop');
    writeFileSync(join(folder, `pid${process.pid}-thread${nodeThreadId}-${String(chunk++).padStart(3, '0')}.cpuprofile`), JSON.stringify(profile));
    await post('Profiler.start');
  };
  void post('Profiler.enable')
    .then(() => post('Profiler.setSamplingInterval', { interval: 200 }))
    .then(() => post('Profiler.start'))
    .then(() => setInterval(() => void next().catch(() => undefined), CHUNK_MS).unref());
}
