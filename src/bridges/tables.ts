// The bridges' tables: runtime bridges (with their secrets: the tables are write-guarded and only
// read through views that drop them), each bridge's cursor and figures, messages waiting for a
// retry, and dead letters.
import { ensureTable, type HarperTable } from '../harper/tables.js';
import type { BusMessage } from '../messages.js';
import type { RemotePublish } from './rules.js';
import type { BridgeSpec } from './spec.js';

export const BRIDGES_TABLE = 'mqtt_bridges';
export const STATE_TABLE = 'mqtt_bridge_state';
export const RETRIES_TABLE = 'mqtt_bridge_retries';
export const DEAD_LETTERS_TABLE = 'mqtt_bridge_dead_letters';
export const INFLIGHT_TABLE = 'mqtt_bridge_inflight';

export interface StoredBridge {
  id: string;
  spec: BridgeSpec;
  createdAt: number;
  createdBy: string;
}

/** What a bridge counts since it was added; kept with its cursor. */
export interface BridgeFigures {
  matched: number;
  sent: number;
  acknowledged: number;
  refused: number;
  retried: number;
  deadLettered: number;
  replayed: number;
  /** Messages sent again after a restart whose first sending may have reached the remote (QoS 1 duplicates, at most). */
  resentAfterRestart: number;
  /** QoS 0 messages not forwarded because the remote was not connected. */
  qos0Dropped: number;
  received: number;
  inboundFailed: number;
  reconnects: number;
}

export const ZERO_FIGURES: BridgeFigures = Object.freeze({ matched: 0, sent: 0, acknowledged: 0, refused: 0, retried: 0, deadLettered: 0, replayed: 0, resentAfterRestart: 0, qos0Dropped: 0, received: 0, inboundFailed: 0, reconnects: 0 });

export interface BridgeState extends BridgeFigures {
  id: string;
  /** Every matched message at or below this bus position is acknowledged or parked. */
  cursor: number;
  /** The highest position ever sent: after a restart, sending up to it again may duplicate. */
  dispatchedUpTo: number;
  connected: boolean;
  state: string;
  lastError: string | null;
  lastErrorAt: number | null;
  /** When the bridge last had nothing left to send. */
  caughtUpAt: number;
  /** The running count of the backlog (null until the log's part is counted). */
  pendingMessages: number | null;
  pendingBytes: number | null;
  /** Since when the backlog is at its cap (null: it is not). */
  backlogFullSince: number | null;
  /** Shown in the status while the backlog is full. */
  warning: string | null;
  updatedAt: number;
  owner: string;
}

/** A refused message: retried later (retries table) or given up (dead letters). */
export interface ParkedMessage {
  id: string;
  bridge: string;
  position: number;
  message: BusMessage;
  remote: RemotePublish;
  attempts: number;
  reason: string;
  /** Retries: when the next attempt is due. Dead letters: when it was given up. */
  at: number;
}

/** A QoS 2 exchange in flight to the remote: the last packet sent for it (PUBLISH, then PUBREL). */
export interface InflightRow {
  id: string;
  bridge: string;
  position: number;
  messageId: number;
  packet: StoredPacket;
}

export interface StoredPacket {
  cmd: 'publish' | 'pubrel';
  messageId: number;
  qos: number;
  topic?: string;
  payload?: Buffer;
  retain?: boolean;
  properties?: Record<string, unknown>;
}

export interface BridgeTables {
  bridges: HarperTable<StoredBridge>;
  state: HarperTable<BridgeState>;
  retries: HarperTable<ParkedMessage>;
  deadLetters: HarperTable<ParkedMessage>;
  inflight: HarperTable<InflightRow>;
}

const parked = [
  { name: 'id', type: 'String', isPrimaryKey: true },
  { name: 'bridge', type: 'String', indexed: true },
  { name: 'position', type: 'Float' },
  { name: 'message' },
  { name: 'remote' },
  { name: 'attempts', type: 'Int' },
  { name: 'reason', type: 'String' },
  { name: 'at', type: 'Float' },
] as const;

export async function openBridgeTables(database: string): Promise<BridgeTables> {
  const [bridges, state, retries, deadLetters, inflight] = await Promise.all([
    ensureTable<StoredBridge>({
      database,
      table: BRIDGES_TABLE,
      attributes: [{ name: 'id', type: 'String', isPrimaryKey: true }, { name: 'spec' }, { name: 'createdAt', type: 'Float' }, { name: 'createdBy', type: 'String' }],
      audit: true, // every thread follows its changes
    }),
    ensureTable<BridgeState>({ database, table: STATE_TABLE, attributes: [{ name: 'id', type: 'String', isPrimaryKey: true }], audit: false }),
    ensureTable<ParkedMessage>({ database, table: RETRIES_TABLE, attributes: [...parked], audit: false }),
    ensureTable<ParkedMessage>({ database, table: DEAD_LETTERS_TABLE, attributes: [...parked], audit: false }),
    ensureTable<InflightRow>({
      database,
      table: INFLIGHT_TABLE,
      attributes: [{ name: 'id', type: 'String', isPrimaryKey: true }, { name: 'bridge', type: 'String', indexed: true }, { name: 'position', type: 'Float' }, { name: 'messageId', type: 'Int' }, { name: 'packet' }],
      audit: false,
    }),
  ]);
  return { bridges, state, retries, deadLetters, inflight };
}

export function parkedId(bridge: string, position: number): string {
  return `${bridge}/${position}`;
}

export async function parkedOf(table: HarperTable<ParkedMessage>, bridge?: string): Promise<ParkedMessage[]> {
  const query = bridge === undefined ? {} : { conditions: [{ attribute: 'bridge', comparator: 'equals', value: bridge }] };
  const rows: ParkedMessage[] = [];
  for await (const row of table.search(query)) rows.push(row);
  return rows.sort((a, b) => a.position - b.position);
}
