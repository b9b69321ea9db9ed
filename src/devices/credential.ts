// Device credentials (seed 004's mqtt_credentials): what one is, how a request to create or change
// one is read, and whether it may connect now. Pure code, no HarperDB.
import { randomBytes } from 'node:crypto';
import { topicFilterProblem } from '../topics/validate.js';

/** A row of `mqtt_credentials`. The password is HarperDB's: the device is a HarperDB user. */
export interface CredentialRow {
  /** The user name, also the HarperDB user's. */
  id: string;
  /** Only this client id may connect with it; null: any. */
  clientId: string | null;
  /** Topic filters the device may publish and subscribe under. */
  prefixes: string[];
  /** Epoch ms after which it is refused; null: never. */
  expiresAt: number | null;
  createdAt: number;
  createdBy: string;
  lastConnectedAt: number | null;
  /** MQTT connections plus HTTP ingest requests. */
  connectionCount: number;
  /** Epoch ms of the revocation; the HarperDB user is gone from then on. */
  revokedAt: number | null;
}

export type CredentialStatus = 'active' | 'expired' | 'revoked';

/** What a read returns: never a password (none is stored here anyway). */
export interface CredentialView {
  username: string;
  clientId: string | null;
  prefixes: string[];
  status: CredentialStatus;
  expiresAt: string | null;
  createdAt: string;
  createdBy: string;
  lastConnectedAt: string | null;
  connectionCount: number;
  revokedAt: string | null;
}

export class CredentialError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;
/** 24 random bytes are 32 base64url characters (192 bits). */
const PASSWORD_BYTES = 24;

export function generatePassword(): string {
  return randomBytes(PASSWORD_BYTES).toString('base64url');
}

export function generateUsername(): string {
  return 'device-' + randomBytes(6).toString('hex');
}

/** `org_a` means everything under it, `org_a/#`; a filter is taken as it is. */
export function normalizePrefix(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new CredentialError('each prefix must be a non-empty topic filter such as "org_acme/#"');
  const filter = value.includes('#') || value.includes('+') ? value : value.replace(/\/$/, '') + '/#';
  const problem = topicFilterProblem(filter);
  if (problem) throw new CredentialError(`prefix ${JSON.stringify(value)}: ${problem}`);
  if (filter === '#' || filter.startsWith('$')) throw new CredentialError(`prefix ${JSON.stringify(value)} would reach every topic or $SYS; give an organization's prefix such as "org_acme/#"`);
  return filter;
}

function readPrefixes(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw new CredentialError('prefixes: give one or more topic prefixes, e.g. ["org_acme/#"]');
  return [...new Set(list.map(normalizePrefix))];
}

function readClientId(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > 256) throw new CredentialError('clientId must be a string of at most 256 characters (or null for any)');
  return value;
}

/** `expiresAt` (ISO time or epoch ms; null clears it) or `expiresInSeconds`. undefined: not given. */
function readExpiry(data: Record<string, unknown>, now: number): number | null | undefined {
  if (data.expiresInSeconds !== undefined) {
    const seconds = data.expiresInSeconds;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) throw new CredentialError('expiresInSeconds must be a positive number');
    return now + seconds * 1000;
  }
  const value = data.expiresAt;
  if (value === undefined) return undefined;
  if (value === null) return null;
  const time = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(time)) throw new CredentialError('expiresAt must be an ISO 8601 time, epoch milliseconds, or null');
  return time;
}

function asObject(data: unknown): Record<string, unknown> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new CredentialError('the body must be a JSON object');
  return data as Record<string, unknown>;
}

const CREATE_FIELDS = new Set(['username', 'clientId', 'prefixes', 'expiresAt', 'expiresInSeconds']);
const CHANGE_FIELDS = new Set(['clientId', 'prefixes', 'expiresAt', 'expiresInSeconds']);

function refuseUnknown(data: Record<string, unknown>, known: Set<string>): void {
  const unknown = Object.keys(data).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new CredentialError(`unknown field ${unknown.map((key) => JSON.stringify(key)).join(', ')}; accepted: ${[...known].join(', ')}`);
}

export interface NewCredential {
  username: string;
  clientId: string | null;
  prefixes: string[];
  expiresAt: number | null;
}

export function readNewCredential(data: unknown, now: number): NewCredential {
  const body = asObject(data);
  refuseUnknown(body, CREATE_FIELDS);
  const username = body.username === undefined ? generateUsername() : body.username;
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    throw new CredentialError('username: 1 to 64 letters, digits, or _ . @ - (leave it out to get a generated one)');
  }
  const expiresAt = readExpiry(body, now) ?? null;
  if (expiresAt !== null && expiresAt <= now) throw new CredentialError('expiresAt is in the past');
  return { username, clientId: readClientId(body.clientId), prefixes: readPrefixes(body.prefixes), expiresAt };
}

export type CredentialChanges = Partial<Pick<CredentialRow, 'clientId' | 'prefixes' | 'expiresAt'>>;

export function readChanges(data: unknown, now: number): CredentialChanges {
  const body = asObject(data);
  refuseUnknown(body, CHANGE_FIELDS);
  const changes: CredentialChanges = {};
  if ('clientId' in body) changes.clientId = readClientId(body.clientId);
  if ('prefixes' in body) changes.prefixes = readPrefixes(body.prefixes);
  const expiresAt = readExpiry(body, now);
  if (expiresAt !== undefined) changes.expiresAt = expiresAt;
  if (Object.keys(changes).length === 0) throw new CredentialError(`nothing to change; give one of ${[...CHANGE_FIELDS].join(', ')}`);
  return changes;
}

export function statusOf(row: CredentialRow, now: number): CredentialStatus {
  if (row.revokedAt !== null && row.revokedAt !== undefined) return 'revoked';
  if (row.expiresAt !== null && row.expiresAt !== undefined && row.expiresAt <= now) return 'expired';
  return 'active';
}

/** Why this credential may not be used now by `clientId` (null: by HTTP, no client id), as an MQTT reason code. */
export function refusalOf(row: CredentialRow | undefined, clientId: string | null, now: number): { code: 0x85 | 0x86 | 0x87; message: string } | null {
  if (!row) return { code: 0x87, message: 'this device user has no credential' };
  const status = statusOf(row, now);
  if (status === 'revoked') return { code: 0x86, message: 'the credential was revoked' };
  if (status === 'expired') return { code: 0x87, message: 'the credential has expired' };
  if (clientId !== null && row.clientId !== null && row.clientId !== clientId) {
    return { code: 0x85, message: `this credential is for client id ${JSON.stringify(row.clientId)}` };
  }
  return null;
}

const iso = (time: number | null | undefined) => (time === null || time === undefined ? null : new Date(time).toISOString());

export function viewOf(row: CredentialRow, now: number): CredentialView {
  return {
    username: row.id,
    clientId: row.clientId ?? null,
    prefixes: [...row.prefixes],
    status: statusOf(row, now),
    expiresAt: iso(row.expiresAt),
    createdAt: iso(row.createdAt) ?? '',
    createdBy: row.createdBy,
    lastConnectedAt: iso(row.lastConnectedAt),
    connectionCount: row.connectionCount ?? 0,
    revokedAt: iso(row.revokedAt),
  };
}
