// Devices on this worker thread: who is a device, whether its credential lets it in now (MQTT
// CONNECT and HTTP requests), and ending the connections of a device whose credential is revoked,
// expires or changes prefixes. Every thread watches the credentials table, so a revocation made on
// any thread reaches the connections on all of them.
import type { HarperUser } from '../authorize.js';
import { refusalOf, type CredentialRow } from './credential.js';
import { DEVICE_ROLE, type CredentialStore } from './credentialStore.js';

/** How often connected devices are checked for a credential that expired meanwhile. */
const EXPIRY_SWEEP_MS = 2000;
/** MQTT 5 DISCONNECT reason: Administrative action. */
const ADMINISTRATIVE_ACTION = 0x98;

export interface DeviceConnection {
  disconnect(reasonCode: number, reason: string): void;
}

export class DeviceRefused extends Error {
  constructor(
    readonly reasonCode: 0x85 | 0x86 | 0x87,
    message: string,
  ) {
    super(message);
  }
}

export function isDeviceUser(user: HarperUser | undefined | null): boolean {
  return (user?.role as { role?: string } | undefined)?.role === DEVICE_ROLE;
}

export class Devices {
  /** Live device connections by user name, with what their access was decided on. */
  private readonly connected = new Map<string, { terms: string; connections: Set<DeviceConnection> }>();

  private constructor(readonly store: CredentialStore) {
    setInterval(() => this.sweepExpired(), EXPIRY_SWEEP_MS).unref();
  }

  static async start(store: CredentialStore): Promise<Devices> {
    const devices = new Devices(store);
    await store.watch((username, row) => devices.changed(username, row));
    return devices;
  }

  /**
   * The topic prefixes `user` is limited to, or null when it is not a device. Throws DeviceRefused
   * when its credential is revoked, expired, or pinned to another client id (null: over HTTP).
   */
  admit(user: HarperUser | undefined | null, clientId: string | null, now = Date.now()): readonly string[] | null {
    const username = user?.username;
    if (!username) return null;
    const row = this.store.get(username);
    if (!row && !isDeviceUser(user)) return null;
    const refusal = refusalOf(row, clientId, now);
    if (refusal) throw new DeviceRefused(refusal.code, refusal.message);
    this.store.noteConnected(username, now);
    return row!.prefixes;
  }

  /** Remembers a device's live connection until the returned function is called. */
  attach(username: string, connection: DeviceConnection): () => void {
    let entry = this.connected.get(username);
    if (!entry) this.connected.set(username, (entry = { terms: termsOf(this.store.get(username)), connections: new Set() }));
    const { connections } = entry;
    connections.add(connection);
    return () => {
      connections.delete(connection);
      if (connections.size === 0 && this.connected.get(username)?.connections === connections) this.connected.delete(username);
    };
  }

  private changed(username: string, row: CredentialRow | undefined): void {
    const entry = this.connected.get(username);
    // Connection statistics change the row too; only a change of terms matters here.
    if (!entry || entry.terms === termsOf(row)) return;
    const refusal = refusalOf(row, null, Date.now());
    // New prefixes apply from the next connection: end this one so it cannot keep the old ones.
    this.disconnectAll(username, refusal ? refusal.message : 'the credential changed; connect again');
  }

  private sweepExpired(): void {
    const now = Date.now();
    for (const username of this.connected.keys()) {
      const refusal = refusalOf(this.store.get(username), null, now);
      if (refusal) this.disconnectAll(username, refusal.message);
    }
  }

  private disconnectAll(username: string, reason: string): void {
    const entry = this.connected.get(username);
    this.connected.delete(username);
    for (const connection of entry?.connections ?? []) connection.disconnect(ADMINISTRATIVE_ACTION, reason);
  }
}

/** What a device's access depends on. */
function termsOf(row: CredentialRow | undefined): string {
  return row ? JSON.stringify([row.prefixes, row.clientId, row.expiresAt, row.revokedAt]) : '';
}
