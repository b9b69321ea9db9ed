// Persistent sessions (MQTT 3.1.1 clean session 0, MQTT 5 session expiry > 0): the subscriptions
// and the bus position a client has seen, kept in `mqtt_sessions`. Messages published while the
// client is away are not copied anywhere: on reconnect they are read back from the bus log.
import { InOrderPerKey } from '../harper/keyed.js';
import { ensureTable, type HarperTable } from '../harper/tables.js';
import type { QoS } from '../messages.js';

export const SESSIONS_TABLE = 'mqtt_sessions';

export interface StoredSubscription {
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
}

/** A QoS 1/2 message sent or queued but not acknowledged when the state was saved. */
export interface StoredPending {
  position: number;
  qos: QoS;
  messageId?: number;
}

export interface SessionRecord {
  id: string;
  subscriptions: StoredSubscription[];
  /** Every bus message up to this position was offered to the client. */
  seenUpTo: number;
  pending: StoredPending[];
  /** Epoch ms after which a disconnected session is discarded; null: kept forever. */
  expiresAt: number | null;
  /** Connection id of the connection using the session, null while disconnected. */
  online: string | null;
  /** Connection id of the connection that saved it (a clean start deletes what earlier ones saved). */
  connection: string;
  /** bootId of the process that saved it: an `online` left by an earlier process is stale. */
  boot: string;
  protocolVersion: number;
  updatedAt: Date;
}

/** Saves the state of connected persistent sessions at most this often (and on every change of subscriptions or disconnect). */
export const SESSION_SAVE_INTERVAL_MS = 1000;

export interface SessionCensus {
  disconnected: number;
  /** Subscriptions held by disconnected sessions. */
  subscriptions: number;
  /** Sessions deleted because they expired. */
  expired: number;
}

export class SessionStore {
  private readonly dirty = new Map<string, () => SessionRecord>();
  private timer: NodeJS.Timeout | undefined;
  /** A clean start's delete must not land after the first SUBSCRIBE's save. */
  private readonly writes = new InOrderPerKey();

  private constructor(private readonly table: HarperTable<SessionRecord>) {}

  static async open(database: string): Promise<SessionStore> {
    const table = await ensureTable<SessionRecord>({
      database,
      table: SESSIONS_TABLE,
      attributes: [
        { name: 'id', isPrimaryKey: true },
        { name: 'subscriptions' },
        { name: 'seenUpTo', type: 'Float' },
        { name: 'pending' },
        { name: 'expiresAt', type: 'Float' },
        { name: 'online', type: 'String' },
        { name: 'connection', type: 'String' },
        { name: 'boot', type: 'String' },
        { name: 'protocolVersion', type: 'Int' },
        { name: 'updatedAt', type: 'Date' },
      ],
      audit: false,
    });
    return new SessionStore(table);
  }

  private static live(record: SessionRecord | undefined, now: number): record is SessionRecord {
    return !!record && (record.expiresAt === null || record.expiresAt === undefined || record.expiresAt > now);
  }

  /**
   * Synchronous because HarperDB sends CONNACK (with its session-present flag) right after the
   * `connected` event; the store is LMDB, whose reads are synchronous.
   */
  existsSync(clientId: string): boolean {
    return SessionStore.live(this.storedSync(clientId), Date.now());
  }

  /** The stored record, read without waiting (live or expired). */
  private storedSync(clientId: string): SessionRecord | undefined {
    return this.table.primaryStore.get(clientId) ?? undefined;
  }

  async get(clientId: string): Promise<SessionRecord | undefined> {
    await this.writes.settled(clientId);
    const record = await this.table.get(clientId);
    if (SessionStore.live(record, Date.now())) return record;
    if (record) await this.delete(clientId);
    return undefined;
  }

  save(record: SessionRecord): Promise<unknown> {
    this.dirty.delete(record.id);
    const saved = { ...record, updatedAt: new Date() };
    return this.writes.run(record.id, () => this.table.put(record.id, saved));
  }

  /**
   * A clean start of `clientId` by connection `by` [MQTT-3.1.2-4], heard by every thread (the new
   * connection's own first, before it saves anything). Each deletes, after its own saves of the
   * client, any record an earlier connection saved: an earlier connection on another thread may
   * still be saving the session when the new one opens (a client that sends DISCONNECT and
   * reconnects at once). Most clients have nothing stored: no write then (a write transaction per
   * CONNECT was the largest cost of a connection).
   */
  endedByCleanStart(clientId: string, by: string): Promise<unknown> {
    if (!this.writes.busy(clientId) && !this.dirty.has(clientId) && !this.savedByAnother(clientId, by)) return Promise.resolve();
    this.dirty.delete(clientId);
    return this.writes.run(clientId, async () => {
      if (this.savedByAnother(clientId, by)) await this.table.delete(clientId);
    });
  }

  private savedByAnother(clientId: string, connection: string): boolean {
    const record = this.storedSync(clientId);
    return record !== undefined && record.connection !== connection;
  }

  delete(clientId: string): Promise<unknown> {
    this.dirty.delete(clientId);
    return this.writes.run(clientId, () => this.table.delete(clientId));
  }

  /** Schedules a save of a connected session; `snapshot` is called when the save happens. */
  markDirty(clientId: string, snapshot: () => SessionRecord): void {
    this.dirty.set(clientId, snapshot);
    this.timer ??= setTimeout(() => this.flush(), SESSION_SAVE_INTERVAL_MS);
  }

  /**
   * Counts the sessions of clients that are not connected, and (`expire`: the $SYS updater) deletes
   * those whose expiry passed [MQTT-3.1.2-23]; readers such as the metrics endpoint only skip them.
   */
  async census(now: number, currentBoot: string, expire = true): Promise<SessionCensus> {
    const census: SessionCensus = { disconnected: 0, subscriptions: 0, expired: 0 };
    for await (const record of this.table.search({})) {
      const offline = record.online === null || record.online === undefined || record.boot !== currentBoot;
      if (!offline) continue;
      const { id } = record;
      if (!SessionStore.live(record, now)) {
        if (!expire) continue;
        await this.table.delete(id);
        census.expired++;
        continue;
      }
      census.disconnected++;
      census.subscriptions += record.subscriptions?.length ?? 0;
    }
    return census;
  }

  private flush(): void {
    this.timer = undefined;
    const snapshots = [...this.dirty.values()];
    this.dirty.clear();
    for (const snapshot of snapshots) void this.save(snapshot()).catch(() => undefined);
  }
}
