// A bridge's backlog against its cap (pure): the matched QoS 1/2 messages the remote has not yet
// acknowledged, counted up as they are published and down as the cursor passes them. Counting is
// additive, so the count of the log read at start (`seed`) may land after the first live messages.
import type { BacklogPolicy, BridgeSpec } from './spec.js';

/** A full backlog is not full again until it is below this share of the cap (no flapping at the edge). */
export const RESUME_SHARE = 0.9;

export type Crossing = 'full' | 'below' | null;

export type BacklogCap = Pick<BridgeSpec, 'maxBacklogMessages' | 'maxBacklogBytes' | 'onBacklogFull'>;

export class BacklogTally {
  messages = 0;
  bytes = 0;
  /** The backlog of the log at start is counted in: the figures are the whole backlog. */
  seeded = false;
  full = false;
  fullSince: number | null = null;

  constructor(private readonly cap: BacklogCap) {}

  /** Negative figures for messages the cursor passed; returns a crossing of the cap, if any. */
  add(messages: number, bytes: number, now = Date.now()): Crossing {
    this.messages += messages;
    this.bytes += bytes;
    return this.check(now);
  }

  seed(messages: number, bytes: number, now = Date.now()): Crossing {
    this.seeded = true;
    return this.add(messages, bytes, now);
  }

  private check(now: number): Crossing {
    if (!this.seeded) return null;
    if (!this.full && this.over(1)) {
      this.full = true;
      this.fullSince = now;
      return 'full';
    }
    if (this.full && !this.over(RESUME_SHARE)) {
      this.full = false;
      this.fullSince = null;
      return 'below';
    }
    return null;
  }

  private over(share: number): boolean {
    const { maxBacklogMessages, maxBacklogBytes } = this.cap;
    return (maxBacklogMessages > 0 && this.messages >= maxBacklogMessages * share) || (maxBacklogBytes > 0 && this.bytes >= maxBacklogBytes * share);
  }

  /** The warning a full backlog shows in the log and the status. */
  warning(): string | null {
    if (!this.full) return null;
    return backlogWarning(this.cap, this.messages, this.bytes);
  }
}

export function backlogWarning(cap: BacklogCap, messages: number, bytes: number): string {
  const limits = [cap.maxBacklogMessages > 0 ? `maxBacklogMessages ${cap.maxBacklogMessages}` : '', cap.maxBacklogBytes > 0 ? `maxBacklogBytes ${cap.maxBacklogBytes}` : ''].filter(Boolean).join(', ');
  const policy: Record<BacklogPolicy, string> = {
    warn: 'local publishes are still accepted and kept (onBacklogFull: warn)',
    refuse: 'local QoS 1/2 publishes to its outbound topics are refused with 0x97 quota exceeded (onBacklogFull: refuse)',
  };
  return `backlog full: ${messages} messages, ${bytes} bytes waiting for the remote (${limits}); ${policy[cap.onBacklogFull]}`;
}
