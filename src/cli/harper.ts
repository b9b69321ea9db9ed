// Installing, configuring, starting and stopping a HarperDB process with this component loaded.
// Used by `npm start`, the integration tests and the benchmarks (never inside HarperDB).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { generate, parser as makeParser } from 'mqtt-packet';
import { parseDocument } from 'yaml';

export interface Ports {
  http: number;
  operations: number;
  mqtt: number;
  mqtts: number;
  /** Replication's WebSocket port; null: no replication listener. */
  replication: number | null;
  /** Replication's TLS port; HarperDB reads it only from harperdb-config.yaml. */
  replicationSecure: number | null;
  /** HarperDB's own MQTT server, for side-by-side benchmarks; null (the default): off. */
  harperMqtt?: number | null;
}

export interface HarperOptions {
  /** HarperDB root folder (ROOTPATH): config, databases, logs. */
  rootPath: string;
  /** HOME for the HarperDB process; it writes ~/.harperdb/hdb_boot_properties.file there. */
  home: string;
  adminUser: string;
  adminPassword: string;
  ports: Ports;
  /** Worker threads; undefined keeps HarperDB's default. */
  threads?: number;
  /** Extra environment (e.g. MQTT_BRIDGE_* options). */
  env?: NodeJS.ProcessEnv;
  /** Where the child's output goes. */
  stdio?: 'inherit' | 'pipe' | 'ignore';
  /** Node options for the HarperDB process (worker threads inherit them), e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** HarperDB's authentication.authorizeLocal: localhost clients are admin without credentials (default true). */
  authorizeLocal?: boolean;
  /**
   * HarperDB's storage.prefetchWrites (default false). Prefetching reads every written key's pages
   * before each write so that a database larger than memory does not page-fault under the write
   * lock; for the broker's small rows it cost more CPU than every other part of a retained write
   * (docs/performance.md: 3,721 -> 6,546 new fleet topics/s when off).
   */
  prefetchWrites?: boolean;
}

export function harperBin(): string {
  // The package's exports hide bin/ and package.json; its main file sits at the package root.
  const root = dirname(createRequire(import.meta.url).resolve('harperdb'));
  const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.harperdb!;
  return join(root, bin);
}

function harperEnv(options: HarperOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    HOME: options.home,
    ROOTPATH: options.rootPath,
    TC_AGREEMENT: 'yes',
    HDB_ADMIN_USERNAME: options.adminUser,
    HDB_ADMIN_PASSWORD: options.adminPassword,
    DEFAULTS_MODE: 'dev',
    REPLICATION_HOSTNAME: 'localhost',
    HTTP_PORT: String(options.ports.http),
    OPERATIONSAPI_NETWORK_PORT: String(options.ports.operations),
    // MQTT is this component's: HarperDB's own MQTT server stays off (see configure).
    MQTT_BRIDGE_PORT: String(options.ports.mqtt),
    MQTT_BRIDGE_SECURE_PORT: String(options.ports.mqtts),
  };
  delete env.MQTT_NETWORK_PORT;
  delete env.MQTT_NETWORK_SECUREPORT;
  if (options.ports.replication !== null) env.REPLICATION_PORT = String(options.ports.replication);
  else delete env.REPLICATION_PORT;
  if (options.threads !== undefined) env.THREADS_COUNT = String(options.threads);
  return env;
}

export function isInstalled(rootPath: string): boolean {
  return existsSync(join(rootPath, 'harperdb-config.yaml'));
}

function runToEnd(args: string[], options: HarperOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [harperBin(), ...args], { env: harperEnv(options), stdio: options.stdio ?? 'pipe' });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`harperdb ${args.join(' ')} exited with ${code}\n${output.slice(-4000)}`)),
    );
  });
}

/** First run: HarperDB's unattended install into `rootPath`. */
export async function install(options: HarperOptions): Promise<void> {
  mkdirSync(options.home, { recursive: true });
  mkdirSync(options.rootPath, { recursive: true });
  await runToEnd(['install'], options);
}

/**
 * Writes the ports and thread count into the root's harperdb-config.yaml on every start (HarperDB
 * reads most of them from the environment only at install), with no inspector on 9229, no shared
 * replication TLS port, and HarperDB's own MQTT server off, so several instances (tests, benchmarks,
 * `npm start`) run side by side and this component serves MQTT.
 */
export function configure(options: HarperOptions): void {
  const file = join(options.rootPath, 'harperdb-config.yaml');
  const document = parseDocument(readFileSync(file, 'utf8'));
  const { ports } = options;
  document.setIn(['threads', 'debug'], false);
  if (options.threads !== undefined) document.setIn(['threads', 'count'], options.threads);
  document.setIn(['http', 'port'], ports.http);
  document.setIn(['operationsApi', 'network', 'port'], ports.operations);
  // HarperDB's own MQTT server off: this component listens on those ports (MQTT_BRIDGE_PORT, ...).
  document.setIn(['mqtt', 'network', 'port'], ports.harperMqtt ?? null);
  document.setIn(['mqtt', 'network', 'securePort'], null);
  document.setIn(['mqtt', 'webSocket'], false);
  document.setIn(['replication', 'port'], ports.replication);
  document.setIn(['replication', 'securePort'], ports.replicationSecure);
  document.setIn(['authentication', 'authorizeLocal'], options.authorizeLocal ?? true);
  // Passwords (device credentials among them) stored as a slow hash rather than SHA-256.
  document.setIn(['authentication', 'hashFunction'], 'argon2id');
  document.setIn(['storage', 'prefetchWrites'], options.prefetchWrites ?? false);
  writeFileSync(file, document.toString());
}

/** Starts `harperdb run <componentDir>` in the foreground of a child process. */
export function run(options: HarperOptions, componentDir: string): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), harperBin(), 'run', componentDir], {
    env: harperEnv(options),
    stdio: options.stdio ?? 'pipe',
  });
}

/** MQTT CONNECT/CONNACK against the broker: 0 once this component serves the thread that answered. */
export interface ProbeLogin {
  username: string;
  password: string;
}

export function probeMqtt(port: number, host = '127.0.0.1', timeoutMs = 2000, login?: ProbeLogin): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const parser = makeParser({ protocolVersion: 4 });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no CONNACK'));
    }, timeoutMs);
    parser.on('packet', (packet) => {
      clearTimeout(timer);
      socket.end(generate({ cmd: 'disconnect' }));
      resolve((packet as { returnCode?: number }).returnCode ?? -1);
    });
    socket.on('data', (data) => parser.parse(data));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('connect', () => socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: '', keepalive: 10, ...(login && { username: login.username, password: Buffer.from(login.password) }) })));
  });
}

/**
 * Waits until MQTT CONNECTs succeed `streak` times in a row. Connections spread over the worker
 * threads, so a streak means every thread has loaded the component.
 */
/** `login`: the admin's, for a HarperDB that requires credentials from localhost too. */
export async function waitUntilReady(port: number, child: ChildProcess, login?: ProbeLogin, timeoutMs = 120_000, streak = 8): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let successes = 0;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`HarperDB exited with code ${child.exitCode} while starting`);
    try {
      successes = (await probeMqtt(port, '127.0.0.1', 2000, login)) === 0 ? successes + 1 : 0;
      if (successes >= streak) return;
    } catch {
      successes = 0;
    }
    if (successes === 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`HarperDB's MQTT port ${port} did not become ready within ${timeoutMs} ms`);
}

/** Waits until HarperDB's HTTP port answers (for instances whose MQTT is expected to refuse clients). */
export async function waitForHttp(port: number, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`HarperDB exited with code ${child.exitCode} while starting`);
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`HarperDB's HTTP port ${port} did not answer within ${timeoutMs} ms`);
}

/** SIGINT (HarperDB shuts down its threads), then SIGKILL if it takes too long. */
export function stop(child: ChildProcess, timeoutMs = 30_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGINT');
  });
}
