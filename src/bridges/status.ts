// A bridge's status as the REST API shows it: the figures, cursor and backlog count its thread
// saved, plus its retries and dead letters. The backlog of a bridge no thread runs is counted from
// the message log after its cursor.
import { log } from '../harper/log.js';
import type { BacklogSignals } from './backlogSignal.js';
import type { LogReader } from './outbound.js';
import { countPending, type Pending } from './pending.js';
import type { BacklogPolicy, BridgeSpec } from './spec.js';
import { parkedOf, ZERO_FIGURES, type BridgeFigures, type BridgeState, type BridgeTables } from './tables.js';

/** The longest a status request scans the log for the backlog; beyond it the count is a floor. */
const BACKLOG_SCAN_LIMIT = 1_000_000;
/** A saved state older than this means no thread is running the bridge now. */
const STALE_MS = 5000;

export interface BacklogStatus {
  full: boolean;
  since: string | null;
  policy: BacklogPolicy;
  maxMessages: number;
  maxBytes: number;
  /** Local publishes refused because of it since HarperDB started (policy refuse). */
  refusedPublishes: number;
}

export interface BridgeStatus extends BridgeFigures {
  connected: boolean;
  state: string;
  cursor: number | null;
  pending: Pending;
  backlog: BacklogStatus;
  /** Something the bridge wants you to know that is not an error (a full backlog). */
  warning: string | null;
  retrying: number;
  deadLetters: { count: number; byReason: Record<string, number> };
  lastError: string | null;
  lastErrorAt: string | null;
  owner: string | null;
  updatedAt: string | null;
}

export async function bridgeStatus(spec: BridgeSpec, tables: BridgeTables, bus: LogReader, signals: BacklogSignals, now = Date.now()): Promise<BridgeStatus> {
  const saved = await tables.state.get(spec.name);
  const running = saved !== undefined && now - saved.updatedAt < STALE_MS;
  const pending = saved ? await pendingOf(spec, saved, running, bus, now) : { messages: 0, bytes: 0, oldestAgeMs: null, complete: true };
  const retries = await parkedOf(tables.retries, spec.name);
  const dead = await parkedOf(tables.deadLetters, spec.name);
  const byReason: Record<string, number> = {};
  for (const row of dead) byReason[row.reason] = (byReason[row.reason] ?? 0) + 1;
  const figures = Object.fromEntries(Object.keys(ZERO_FIGURES).map((key) => [key, (saved as unknown as Record<string, number> | undefined)?.[key] ?? 0])) as unknown as BridgeFigures;
  const fullSince = running ? (saved.backlogFullSince ?? null) : null;
  return {
    ...figures,
    connected: running && saved.connected,
    state: running ? saved.state : 'stopped',
    cursor: saved?.cursor ?? null,
    pending,
    backlog: { full: fullSince !== null, since: fullSince === null ? null : new Date(fullSince).toISOString(), policy: spec.onBacklogFull, maxMessages: spec.maxBacklogMessages, maxBytes: spec.maxBacklogBytes, refusedPublishes: signals.of(spec.name).refusedCount },
    warning: running ? (saved.warning ?? null) : null,
    retrying: retries.length,
    deadLetters: { count: dead.length, byReason },
    lastError: saved?.lastError ?? null,
    lastErrorAt: saved?.lastErrorAt ? new Date(saved.lastErrorAt).toISOString() : null,
    owner: running ? saved.owner : null,
    updatedAt: saved ? new Date(saved.updatedAt).toISOString() : null,
  };
}

/** The running count while a thread runs the bridge (the one its cap uses); else counted from the log. */
async function pendingOf(spec: BridgeSpec, saved: BridgeState, running: boolean, bus: LogReader, now: number): Promise<Pending> {
  const counted = running && typeof saved.pendingMessages === 'number' && typeof saved.pendingBytes === 'number';
  try {
    if (counted && saved.pendingMessages === 0) return { messages: 0, bytes: 0, oldestAgeMs: null, complete: true };
    const scan = await countPending(spec, bus, saved.cursor, bus.position - 1, { limit: BACKLOG_SCAN_LIMIT, firstOnly: counted, now });
    return counted ? { messages: saved.pendingMessages!, bytes: saved.pendingBytes!, oldestAgeMs: scan.oldestAgeMs, complete: true } : scan;
  } catch (error) {
    log.warn(`bridge ${spec.name}: could not count the backlog`, error);
    return counted ? { messages: saved.pendingMessages!, bytes: saved.pendingBytes!, oldestAgeMs: null, complete: true } : { messages: 0, bytes: 0, oldestAgeMs: null, complete: false };
  }
}
