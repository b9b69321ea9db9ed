// MQTT 5 Will Delay Interval: a will waits min(will delay, session expiry) after an unclean end and
// is dropped if a connection with the same client id arrives first [MQTT-3.1.3-9]. Timers live on
// the thread that held the connection; takeover notices from every thread reach `connected`.
export class DelayedWills {
  private readonly waiting = new Map<string, { timer: NodeJS.Timeout; publish: () => void }>();

  /** Runs `publish` after `delayMs` unless a new connection of the client comes first. */
  schedule(clientId: string, delayMs: number, publish: () => void): void {
    this.take(clientId);
    const timer = setTimeout(() => {
      this.waiting.delete(clientId);
      publish();
    }, delayMs);
    this.waiting.set(clientId, { timer, publish });
  }

  /**
   * A new connection of `clientId`: resuming the session cancels the will; a clean start ends the
   * old session, so its will goes now.
   */
  connected(clientId: string, cleanStart: boolean): void {
    const entry = this.take(clientId);
    if (entry && cleanStart) entry.publish();
  }

  private take(clientId: string): { publish: () => void } | undefined {
    const entry = this.waiting.get(clientId);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.waiting.delete(clientId);
    return entry;
  }
}

/** Seconds a will waits: the will delay, but never past the session's end [MQTT-3.1.3-9]. */
export function willWaitSeconds(willDelay: number | undefined, sessionExpiry: number | null, persistent: boolean): number {
  const delay = willDelay ?? 0;
  if (delay <= 0) return 0;
  if (!persistent) return 0; // the session ends with the connection
  return sessionExpiry === null ? delay : Math.min(delay, sessionExpiry);
}
