// What a source is doing, as REST shows it: its definition, state, position, counts, lag and last
// error. Reads the committed position row and the shared slot; writes nothing.
import { openTable } from '../harper/tables.js';
import type { AuditedTable } from './auditLog.js';
import type { SourceDefinition, SourceSpec } from './definition.js';
import type { Positions } from './positions.js';
import type { SlotError, SourceSlot } from './slot.js';
import type { Origin, Refused, SourceStore } from './sourceStore.js';
import { tableProblem } from './tableCheck.js';

export type SourceState = 'running' | 'starting' | 'waiting for table' | 'refused';

export interface SourceStatus {
  name: string;
  origin: Origin;
  state: SourceState;
  definition?: SourceSpec;
  /** Why the source is refused (a bad entry, or a table it does not fit). */
  error?: string;
  /** The worker thread running it (node thread id), if any. */
  thread?: number;
  /** Every change of the table committed up to this time is published (or filtered out). */
  position?: string;
  published?: number;
  skipped?: number;
  /** Commit time of the last change published. */
  lastChangeAt?: string;
  /** How far behind the table's changes publishing was at its last read; 0 when caught up. */
  lagMs?: number;
  caughtUp?: boolean;
  lastError?: { message: string; at: string; count: number };
  createdAt?: Date;
  createdBy?: string;
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : undefined);

export async function sourceStatus(source: SourceDefinition, store: SourceStore, positions: Positions, slot: SourceSlot, now = Date.now()): Promise<SourceStatus> {
  const status: SourceStatus = { name: source.name, origin: store.originOf(source.name) ?? 'config', state: 'starting', definition: source.spec, ...store.addedBy(source.name) };
  const table = openTable<object>(source.database, source.table) as unknown as AuditedTable | undefined;
  const problem = table ? tableProblem(source, table) : null;
  if (!table) status.state = 'waiting for table';
  else if (problem) {
    status.state = 'refused';
    status.error = problem;
  } else if (slot.owner !== 0 && slot.holds(slot.owner, now)) {
    status.state = 'running';
    status.thread = slot.owner;
  }
  const stored = await positions.read(source.name);
  if (stored) {
    status.position = iso(stored.position);
    status.published = stored.published;
    status.skipped = stored.skipped;
    status.lastChangeAt = iso(stored.changeTime);
  }
  if (status.state === 'running') {
    status.caughtUp = slot.caughtUp;
    status.lagMs = slot.caughtUp ? 0 : Math.round(slot.lagMs);
  }
  const error = slot.lastError;
  if (error) status.lastError = errorView(error);
  return status;
}

export function refusedStatus(refused: Refused): SourceStatus {
  return { name: refused.name, origin: refused.origin, state: 'refused', error: refused.error };
}

function errorView(error: SlotError): SourceStatus['lastError'] {
  return { message: error.message, at: iso(error.at)!, count: error.count };
}
