// What happens to a message the remote refused (pure): retried after 1 s, 2 s, 4 s, 8 s ... (the
// delay doubles per failed attempt, up to a cap), dead-lettered once `maxAttempts` attempts failed.
// Connection failures are not refusals: they never count as attempts.
export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 5 * 60_000;

/** Delay before the next attempt, after `failedAttempts` (>= 1) attempts were refused. */
export function retryDelayMs(failedAttempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failedAttempts - 1));
}

export type RefusalDecision = { action: 'retry'; atMs: number } | { action: 'dead-letter' };

export function afterRefusal(failedAttempts: number, maxAttempts: number, nowMs: number): RefusalDecision {
  if (failedAttempts >= maxAttempts) return { action: 'dead-letter' };
  return { action: 'retry', atMs: nowMs + retryDelayMs(failedAttempts) };
}

/** MQTT 5 reason codes below 0x80 are successes (0x10: no matching subscribers is one) [MQTT-3.4.2.1]. */
export function isRefusal(reasonCode: number | undefined): boolean {
  return reasonCode !== undefined && reasonCode >= 0x80;
}

/** The reason as people read it: `0x87 Not authorized`. */
export function reasonText(reasonCode: number, description?: string): string {
  return `0x${reasonCode.toString(16).padStart(2, '0')}${description ? ' ' + description : ''}`;
}
