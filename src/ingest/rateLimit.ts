// Messages per second per user, as a token bucket that holds one second's worth: bursts up to the
// limit, then the limit on average. Pure code.
export class RateLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `perSecond` 0: no limit. */
  constructor(private readonly perSecond: number) {}

  /** Takes `count` tokens for `key`, or returns the seconds to wait before they would be there. */
  take(key: string, count: number, now = Date.now()): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.buckets.get(key) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (count > this.perSecond) return Infinity;
    if (bucket.tokens >= count) {
      bucket.tokens -= count;
      return 0;
    }
    return Math.ceil((count - bucket.tokens) / this.perSecond);
  }

  /** Forgets buckets that are full again (keeps memory bounded by active users). */
  sweep(now = Date.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.perSecond) this.buckets.delete(key);
  }
}
