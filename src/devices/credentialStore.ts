// Device credentials in HarperDB: each device is a HarperDB user with the `mqtt_device` role, so
// HarperDB hashes and checks its password (MQTT CONNECT, Basic auth, JWT) and replicates it; the
// `mqtt_credentials` table keeps what HarperDB does not: prefixes, client id pin, expiry, revocation
// and connection statistics.
import { server } from 'harperdb';
import { inTransaction, OPTIMISTIC_WRITES } from '../harper/batch.js';
import type { HarperUser } from '../authorize.js';
import { log } from '../harper/log.js';
import { ensureTable, type HarperTable, type TableEvent } from '../harper/tables.js';
import { CredentialError, generatePassword, type CredentialChanges, type CredentialRow, type NewCredential } from './credential.js';

export const CREDENTIALS_TABLE = 'mqtt_credentials';
export const DEVICE_ROLE = 'mqtt_device';
/** Connection statistics are written at most this often per thread. */
const STATS_FLUSH_MS = 1000;

type Operation = Record<string, unknown> & { operation: string };
/**
 * HarperDB's user operations, run as the admin who asked. `server.operation` adds a `bypass_auth`
 * key to the request, which add_role's validation refuses as an unknown key: declared beforehand
 * as non-enumerable, HarperDB still reads and sets it but the key check does not see it.
 */
const operation = (request: Operation, admin: HarperUser) => {
  Object.defineProperty(request, 'bypass_auth', { value: false, writable: true, enumerable: false, configurable: true });
  return server.operation(request, { user: admin }, true);
};

interface Updatable {
  addTo(property: string, value: number): void;
  set?(property: string, value: unknown): void;
  [property: string]: unknown;
}

export class CredentialStore {
  private pending = new Map<string, { count: number; last: number }>();
  private role: Promise<void> | null = null;

  private constructor(private readonly table: HarperTable<CredentialRow>) {
    setInterval(() => void this.flushStats(), STATS_FLUSH_MS).unref();
  }

  static async open(database: string): Promise<CredentialStore> {
    const table = await ensureTable<CredentialRow>({
      database,
      table: CREDENTIALS_TABLE,
      attributes: [
        { name: 'id', isPrimaryKey: true },
        { name: 'clientId', type: 'String' },
        { name: 'prefixes', type: 'Any' },
        { name: 'expiresAt', type: 'Float' },
        { name: 'createdAt', type: 'Float' },
        { name: 'createdBy', type: 'String' },
        { name: 'lastConnectedAt', type: 'Float' },
        { name: 'connectionCount', type: 'Float' },
        { name: 'revokedAt', type: 'Float' },
      ],
      audit: true, // the subscription that tells every thread about revocations needs it
    });
    return new CredentialStore(table);
  }

  /** Synchronous read from the table's store: cheap enough for every CONNECT and ingest request. */
  get(username: string): CredentialRow | undefined {
    return this.table.primaryStore.get(username) ?? undefined;
  }

  async *list(): AsyncIterable<CredentialRow> {
    yield* this.table.search({});
  }

  /** Every change of a credential, on this thread (revocations and expiry changes end connections). */
  async watch(listener: (username: string, row: CredentialRow | undefined) => void): Promise<void> {
    const changes = await this.table.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<CredentialRow>) => listener(String(event.id), event.value ?? undefined));
  }

  /** Creates the HarperDB user and the credential row; returns the password (shown once, never stored here). */
  async generate(credential: NewCredential, admin: HarperUser, now: number): Promise<{ row: CredentialRow; password: string }> {
    await this.ensureRole(admin);
    const createdBy = admin.username ?? '';
    const existing = this.get(credential.username);
    if (existing && existing.revokedAt === null) throw new CredentialError(`a credential ${credential.username} exists already; rotate it instead`, 409);
    const password = generatePassword();
    try {
      await operation({ operation: 'add_user', username: credential.username, password, role: DEVICE_ROLE, active: true }, admin);
    } catch (error) {
      if (/already exists/i.test((error as Error).message)) throw new CredentialError(`a HarperDB user ${credential.username} exists already`, 409);
      throw error;
    }
    const row: CredentialRow = { id: credential.username, ...credential, createdAt: now, createdBy, lastConnectedAt: null, connectionCount: 0, revokedAt: null };
    try {
      await this.table.put(row.id, row);
    } catch (error) {
      await operation({ operation: 'drop_user', username: credential.username }, admin).catch(() => undefined);
      throw error;
    }
    return { row, password };
  }

  async rotate(username: string, admin: HarperUser, now: number): Promise<{ row: CredentialRow; password: string }> {
    const row = this.active(username, now);
    const password = generatePassword();
    await operation({ operation: 'alter_user', username, password, active: true }, admin);
    return { row, password };
  }

  async change(username: string, changes: CredentialChanges, now: number): Promise<CredentialRow> {
    const row = { ...this.active(username, now, true), ...changes };
    await this.table.put(username, row);
    return row;
  }

  /** Drops the HarperDB user (its password stops working everywhere) and keeps the row, marked revoked. */
  async revoke(username: string, admin: HarperUser, now: number): Promise<CredentialRow> {
    const found = this.get(username);
    if (!found) throw new CredentialError(`no credential ${username}`, 404);
    if (found.revokedAt !== null) return found;
    const row = { ...found, revokedAt: now };
    await this.table.put(username, row);
    await operation({ operation: 'drop_user', username }, admin).catch((error: Error) => {
      if (!/does not exist/i.test(error.message)) throw error;
    });
    return row;
  }

  /** Counts a connection (or ingest request); written within a second. */
  noteConnected(username: string, now: number): void {
    const entry = this.pending.get(username);
    if (entry) {
      entry.count++;
      entry.last = now;
    } else this.pending.set(username, { count: 1, last: now });
  }

  private active(username: string, now: number, expiredToo = false): CredentialRow {
    const row = this.get(username);
    if (!row) throw new CredentialError(`no credential ${username}`, 404);
    if (row.revokedAt !== null) throw new CredentialError(`credential ${username} was revoked; generate a new one`, 409);
    if (!expiredToo && row.expiresAt !== null && row.expiresAt <= now) throw new CredentialError(`credential ${username} has expired; set a new expiresAt first`, 409);
    return row;
  }

  private ensureRole(admin: HarperUser): Promise<void> {
    this.role ??= operation({ operation: 'add_role', role: DEVICE_ROLE, permission: { super_user: false } }, admin).then(
      () => log.info(`created the HarperDB role ${DEVICE_ROLE} for device credentials`),
      (error: Error) => {
        if (!/already exists/i.test(error.message)) {
          this.role = null;
          throw error;
        }
      },
    );
    return this.role;
  }

  /** Increments, not overwrites: threads count the same device's connections side by side. */
  private async flushStats(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const entries = [...batch];
    // Small transactions: a connection storm must not hold the database's write lock (OPTIMISTIC_WRITES).
    for (let from = 0; from < entries.length; from += OPTIMISTIC_WRITES) {
      try {
        await inTransaction(async (context) => {
          for (const [username, { count, last }] of entries.slice(from, from + OPTIMISTIC_WRITES)) {
            if (!this.get(username)) continue;
            const record = (await (this.table as unknown as { update(id: string, context: object): Promise<Updatable> }).update(username, context)) as Updatable;
            record.addTo('connectionCount', count);
            record.lastConnectedAt = last;
          }
        });
      } catch (error) {
        log.warn('could not record device connection statistics', error);
      }
    }
  }
}
