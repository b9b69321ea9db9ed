// Mosquitto's $SYS/broker/load/... figures: per-minute rates of a growing total, exponentially
// averaged over 1, 5 and 15 minutes like a Unix load average. At every refresh, the rate over the
// elapsed time pulls each average towards itself by 1 - e^(-elapsed/period).

export const LOAD_PERIODS = { '1min': 60, '5min': 300, '15min': 900 } as const;
export type LoadPeriod = keyof typeof LOAD_PERIODS;

export class LoadAverage {
  readonly values: Record<LoadPeriod, number> = { '1min': 0, '5min': 0, '15min': 0 };
  private last: number | undefined;

  /** `total` is the counter's value now, `elapsedSeconds` the time since the previous update. */
  update(total: number, elapsedSeconds: number): void {
    const previous = this.last;
    this.last = total;
    if (previous === undefined || elapsedSeconds <= 0) return;
    const perMinute = (Math.max(0, total - previous) * 60) / elapsedSeconds;
    for (const period of Object.keys(LOAD_PERIODS) as LoadPeriod[]) {
      const keep = Math.exp(-elapsedSeconds / LOAD_PERIODS[period]);
      this.values[period] = perMinute + keep * (this.values[period] - perMinute);
    }
  }
}
