// Counting a bridge's backlog from the message log (what its rules match after its cursor): for
// the status of a bridge no thread runs, and once when a bridge starts (its running count then
// goes on from there).
import type { LogReader } from './outbound.js';
import { isDurable, outboundFor } from './rules.js';
import type { BridgeSpec } from './spec.js';

export interface Pending {
  messages: number;
  bytes: number;
  oldestAgeMs: number | null;
  /** False when the scan stopped at `limit` entries: the figures are a floor. */
  complete: boolean;
}

/** Matched QoS 1/2 messages with `after` < position <= `upTo`; stops after `limit` log entries, or at the first match with `firstOnly`. */
export async function countPending(spec: BridgeSpec, bus: LogReader, after: number, upTo: number, options: { limit?: number; firstOnly?: boolean; now?: number } = {}): Promise<Pending> {
  const { limit = Infinity, firstOnly = false, now = Date.now() } = options;
  const pending: Pending = { messages: 0, bytes: 0, oldestAgeMs: null, complete: true };
  let scanned = 0;
  for await (const { message, position } of bus.since(after)) {
    if (position > upTo) break;
    if (++scanned > limit) {
      pending.complete = false;
      break;
    }
    if (!isDurable(message) || !outboundFor(spec.outbound, message, spec.name)) continue;
    pending.messages++;
    pending.bytes += message.payload.length;
    pending.oldestAgeMs ??= now - message.timestamp;
    if (firstOnly) break;
  }
  return pending;
}
