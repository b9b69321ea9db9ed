// What `npm start` will do, worked out from the environment before anything is started: where
// HarperDB's root and private HOME are, which ports and how many threads. Pure code, so a bad
// value is reported as one line naming the variable (and unit tested) before HarperDB starts.
import { join, resolve } from 'node:path';
import type { Ports } from './harper.js';

export class StartError extends Error {
  override name = 'StartError';
}

export interface StartPlan {
  /** HarperDB root folder (ROOTPATH). */
  rootPath: string;
  /** HOME for the HarperDB process, inside the root: each root keeps its own boot file. */
  home: string;
  /** The generated admin password, when HDB_ADMIN_PASSWORD does not give one. */
  passwordFile: string;
  adminUser: string;
  /** From HDB_ADMIN_PASSWORD, else undefined (read or generated into passwordFile). */
  adminPassword: string | undefined;
  ports: Ports;
  threads: number;
  /** Clients from localhost are admin without credentials (AUTHORIZE_LOCAL, default true). */
  authorizeLocal: boolean;
  /** HarperDB's storage.prefetchWrites (STORAGE_PREFETCHWRITES, default false: see HarperOptions). */
  prefetchWrites: boolean;
}

export const DEFAULT_START_PORTS = {
  http: 9926,
  operations: 9925,
  mqtt: 1883,
  mqtts: 8883,
} as const;

function port(env: NodeJS.ProcessEnv, name: string, fallback: number | null): number | null {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0 || parsed > 65535) {
    throw new StartError(`${name} must be a TCP port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function required(value: number | null): number {
  return value as number;
}

/**
 * `projectDir` holds the default data folder (.harper/); `cores` is the default thread count
 * (HarperDB's own installer would pick one less, leaving a 2-core machine with one worker).
 */
export function planStart(env: NodeJS.ProcessEnv, projectDir: string, cores: number): StartPlan {
  const rootPath = resolve(env.ROOTPATH || join(projectDir, '.harper', 'hdb'));
  const ports: Ports = {
    http: required(port(env, 'HTTP_PORT', DEFAULT_START_PORTS.http)),
    operations: required(port(env, 'OPERATIONSAPI_NETWORK_PORT', DEFAULT_START_PORTS.operations)),
    mqtt: required(port(env, 'MQTT_NETWORK_PORT', DEFAULT_START_PORTS.mqtt)),
    mqtts: required(port(env, 'MQTT_NETWORK_SECUREPORT', DEFAULT_START_PORTS.mqtts)),
    // A single broker needs no replication listener; set REPLICATION_PORT to have one.
    replication: port(env, 'REPLICATION_PORT', null),
    replicationSecure: null,
  };
  const seen = new Map<number, string>();
  for (const [name, value] of Object.entries(ports)) {
    if (value === null) continue;
    const other = seen.get(value);
    if (other) throw new StartError(`ports ${other} and ${name} are both ${value}; each needs its own port`);
    seen.set(value, name);
  }
  let threads = Math.max(1, cores);
  if (env.THREADS_COUNT !== undefined && env.THREADS_COUNT !== '') {
    threads = Number(env.THREADS_COUNT);
    if (!Number.isInteger(threads) || threads <= 0 || threads > 64) {
      throw new StartError(`THREADS_COUNT must be a whole number of worker threads (1-64), got ${JSON.stringify(env.THREADS_COUNT)}`);
    }
  }
  const local = env.AUTHORIZE_LOCAL;
  if (local !== undefined && local !== '' && !['true', 'false'].includes(local)) {
    throw new StartError(`AUTHORIZE_LOCAL must be true or false, got ${JSON.stringify(local)}`);
  }
  const prefetch = (env.STORAGE_PREFETCHWRITES ?? '').trim().toLowerCase();
  if (!['', 'true', 'false', '1', '0', 'yes', 'no'].includes(prefetch)) {
    throw new StartError(`STORAGE_PREFETCHWRITES must be true or false, got ${JSON.stringify(env.STORAGE_PREFETCHWRITES)}`);
  }
  return {
    authorizeLocal: local !== 'false',
    prefetchWrites: ['true', '1', 'yes'].includes(prefetch),
    rootPath,
    home: join(rootPath, '.home'),
    passwordFile: join(rootPath, '.admin-password'),
    adminUser: env.HDB_ADMIN_USERNAME || 'admin',
    adminPassword: env.HDB_ADMIN_PASSWORD || undefined,
    ports,
    threads,
  };
}
