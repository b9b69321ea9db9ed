// Messages the remote refused: kept in the retries table (so the cursor can move past them and the
// messages behind go on), sent again on the backoff schedule, dead-lettered after maxAttempts.
import { readBusMessage, type BusMessage } from '../messages.js';
import { afterRefusal } from './backoff.js';
import type { RemotePublish } from './rules.js';
import { parkedId, parkedOf, type BridgeTables, type ParkedMessage } from './tables.js';

export type Outcome = 'retry' | 'dead-letter';

export class Retries {
  /** Retries being sent now (not picked up again until they are answered). */
  private readonly sending = new Set<string>();

  constructor(
    private readonly tables: Pick<BridgeTables, 'retries' | 'deadLetters'>,
    private readonly bridge: string,
    private readonly maxAttempts: () => number,
  ) {}

  /** A refusal after `attempts` attempts: parked for a retry or dead-lettered; resolves once committed. */
  async refused(position: number, message: BusMessage, remote: RemotePublish, attempts: number, reason: string, now = Date.now()): Promise<Outcome> {
    const decision = afterRefusal(attempts, this.maxAttempts(), now);
    const row: ParkedMessage = { id: parkedId(this.bridge, position), bridge: this.bridge, position, message, remote, attempts, reason, at: decision.action === 'retry' ? decision.atMs : now };
    if (decision.action === 'retry') {
      await this.tables.retries.put(row.id, row);
      return 'retry';
    }
    await this.tables.deadLetters.put(row.id, row);
    await this.tables.retries.delete(row.id);
    return 'dead-letter';
  }

  /** Retries due now, oldest position first, each handed out once until `answered`. */
  async due(now = Date.now()): Promise<ParkedMessage[]> {
    const rows = (await parkedOf(this.tables.retries, this.bridge)).filter((row) => row.at <= now && !this.sending.has(row.id));
    for (const row of rows) this.sending.add(row.id);
    // Field by field: a stored record keeps its fields behind getters.
    return rows.map((row) => ({ id: row.id, bridge: row.bridge, position: row.position, message: readBusMessage(row.message), remote: { topic: row.remote.topic, qos: row.remote.qos, retain: row.remote.retain }, attempts: row.attempts, reason: row.reason, at: row.at }));
  }

  async acknowledged(row: ParkedMessage): Promise<void> {
    this.sending.delete(row.id);
    await this.tables.retries.delete(row.id);
  }

  /** Sent but not answered (the connection went): due again with the next sweep, not counted as an attempt. */
  unanswered(row: ParkedMessage): void {
    this.sending.delete(row.id);
  }

  async refusedAgain(row: ParkedMessage, reason: string): Promise<Outcome> {
    this.sending.delete(row.id);
    return this.refused(row.position, row.message, row.remote, row.attempts + 1, reason);
  }

  count(): Promise<number> {
    return parkedOf(this.tables.retries, this.bridge).then((rows) => rows.length);
  }
}

/**
 * Dead letters back to the retries table, due now with a fresh count of attempts: all of them, one
 * bridge's, or one by id; at most `limit`, oldest first. Returns how many.
 */
export async function replayDeadLetters(tables: Pick<BridgeTables, 'retries' | 'deadLetters'>, selection: { bridge?: string; id?: string; limit?: number }, now = Date.now()): Promise<number> {
  let rows: ParkedMessage[];
  if (selection.id !== undefined) {
    const row = await tables.deadLetters.get(selection.id);
    rows = row ? [row] : [];
  } else rows = await parkedOf(tables.deadLetters, selection.bridge);
  if (selection.limit !== undefined) rows = rows.slice(0, selection.limit);
  for (const row of rows) {
    const again: ParkedMessage = { id: row.id, bridge: row.bridge, position: row.position, message: row.message, remote: row.remote, attempts: 0, reason: `replayed after: ${row.reason}`, at: now };
    await tables.retries.put(row.id, again);
    await tables.deadLetters.delete(row.id);
  }
  return rows.length;
}

/** Removes dead letters older than their bridge's deadLetterRetainDays; returns how many. */
export async function sweepDeadLetters(tables: Pick<BridgeTables, 'deadLetters'>, retainDaysOf: (bridge: string) => number, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const row of await parkedOf(tables.deadLetters)) {
    if (row.at >= now - retainDaysOf(row.bridge) * 86_400_000) continue;
    await tables.deadLetters.delete(row.id);
    removed++;
  }
  return removed;
}
