// A bridge's status as the REST API shows it: the figures and cursor its thread saved, plus what is
// still pending, counted from the message log after the cursor, the retries and the dead letters.
import { log } from '../harper/log.js';
import type { LogReader } from './outbound.js';
import { isDurable, outboundFor } from './rules.js';
import type { BridgeSpec } from './spec.js';
import { parkedOf, ZERO_FIGURES, type BridgeFigures, type BridgeTables } from './tables.js';

/** The longest a status request scans the log for the backlog; beyond it the count is a floor. */
const BACKLOG_SCAN_LIMIT = 1_000_000;
/** A saved state older than this means no thread is running the bridge now. */
const STALE_MS = 5000;

export interface BridgeStatus extends BridgeFigures {
  connected: boolean;
  state: string;
  cursor: number | null;
  pending: { messages: number; bytes: number; oldestAgeMs: number | null; complete: boolean };
  retrying: number;
  deadLetters: { count: number; byReason: Record<string, number> };
  lastError: string | null;
  lastErrorAt: string | null;
  owner: string | null;
  updatedAt: string | null;
}

export async function bridgeStatus(spec: BridgeSpec, tables: BridgeTables, bus: LogReader, now = Date.now()): Promise<BridgeStatus> {
  const saved = await tables.state.get(spec.name);
  const pending = { messages: 0, bytes: 0, oldestAgeMs: null as number | null, complete: true };
  if (saved) {
    let scanned = 0;
    const frontier = bus.position - 1;
    try {
      for await (const { message, position } of bus.since(saved.cursor)) {
        if (position > frontier) break;
        if (++scanned > BACKLOG_SCAN_LIMIT) {
          pending.complete = false;
          break;
        }
        if (!isDurable(message) || !outboundFor(spec.outbound, message, spec.name)) continue;
        pending.messages++;
        pending.bytes += message.payload.length;
        pending.oldestAgeMs ??= now - message.timestamp;
      }
    } catch (error) {
      log.warn(`bridge ${spec.name}: could not count the backlog`, error);
      pending.complete = false;
    }
  }
  const retries = await parkedOf(tables.retries, spec.name);
  const dead = await parkedOf(tables.deadLetters, spec.name);
  const byReason: Record<string, number> = {};
  for (const row of dead) byReason[row.reason] = (byReason[row.reason] ?? 0) + 1;
  const figures = Object.fromEntries(Object.keys(ZERO_FIGURES).map((key) => [key, (saved as unknown as Record<string, number> | undefined)?.[key] ?? 0])) as unknown as BridgeFigures;
  const running = saved !== undefined && now - saved.updatedAt < STALE_MS;
  return {
    ...figures,
    connected: running && saved.connected,
    state: running ? saved.state : 'stopped',
    cursor: saved?.cursor ?? null,
    pending,
    retrying: retries.length,
    deadLetters: { count: dead.length, byReason },
    lastError: saved?.lastError ?? null,
    lastErrorAt: saved?.lastErrorAt ? new Date(saved.lastErrorAt).toISOString() : null,
    owner: running ? saved.owner : null,
    updatedAt: saved ? new Date(saved.updatedAt).toISOString() : null,
  };
}
