// Small statistics helpers for benchmark results.

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted[sorted.length - 1]!) };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Resident memory of a process in MiB (all its threads). */
export async function rssMiB(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024, 0);
}

/** CPU time of a process so far (all its threads), in ms. */
export async function cpuMs(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 100 Hz ticks
}

/** Bytes a process has had written to storage so far, all its threads (`write_bytes` of /proc/<pid>/io). */
export async function writtenBytes(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const { readFile } = await import('node:fs/promises');
  return Number(/write_bytes:\s+(\d+)/.exec(await readFile(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

/**
 * Waits until a process is idle (under 10% of a core over 300 ms, at most `limitMs`): work it does
 * behind a round (history rows written after a burst) is not measured in the next broker's round.
 */
export async function settled(pid: number | undefined, limitMs = 30_000): Promise<void> {
  if (!pid) return;
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const before = await cpuMs(pid).catch(() => NaN);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const used = (await cpuMs(pid).catch(() => NaN)) - before;
    if (!(used > 30)) return;
  }
}
