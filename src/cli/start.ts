// `npm start`: HarperDB with this component loaded, data in <project>/.harper by default.
// First start installs HarperDB unattended. HarperDB's own environment variables (ROOTPATH,
// HDB_ADMIN_USERNAME, HDB_ADMIN_PASSWORD, HTTP_PORT, OPERATIONSAPI_NETWORK_PORT,
// MQTT_NETWORK_PORT, MQTT_NETWORK_SECUREPORT, REPLICATION_PORT, THREADS_COUNT) are honoured.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { configure, DEFAULT_PORTS, install, isInstalled, run, stop, waitUntilReady, type HarperOptions, type Ports } from './harper.js';

const log = pino({ name: 'harper-mqtt-bridge', base: undefined });
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = join(projectDir, '.harper');
const env = process.env;

function port(name: string, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0 || parsed > 65535) {
    log.fatal(`${name} must be a TCP port number, got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return parsed;
}

/** The admin password: HDB_ADMIN_PASSWORD, else one generated on first start and kept in .harper/. */
function adminPassword(): string {
  if (env.HDB_ADMIN_PASSWORD) return env.HDB_ADMIN_PASSWORD;
  const file = join(dataDir, 'admin-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const password = randomBytes(12).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

const ports: Ports = {
  http: port('HTTP_PORT', DEFAULT_PORTS.http),
  operations: port('OPERATIONSAPI_NETWORK_PORT', DEFAULT_PORTS.operations),
  mqtt: port('MQTT_NETWORK_PORT', DEFAULT_PORTS.mqtt),
  mqtts: port('MQTT_NETWORK_SECUREPORT', DEFAULT_PORTS.mqtts),
  replication: port('REPLICATION_PORT', DEFAULT_PORTS.replication),
  replicationSecure: null,
};
const threads = env.THREADS_COUNT ? Number(env.THREADS_COUNT) : undefined;
if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
  log.fatal(`THREADS_COUNT must be a positive integer, got ${JSON.stringify(env.THREADS_COUNT)}`);
  process.exit(2);
}

const options: HarperOptions = {
  rootPath: resolve(env.ROOTPATH || join(dataDir, 'hdb')),
  // HarperDB records its root in ~/.harperdb; a private HOME keeps a HarperDB you already have untouched.
  home: join(dataDir, 'home'),
  adminUser: env.HDB_ADMIN_USERNAME || 'admin',
  adminPassword: adminPassword(),
  ports,
  threads,
  stdio: 'inherit',
};

if (!isInstalled(options.rootPath)) {
  log.info({ rootPath: options.rootPath }, 'first start: installing HarperDB (unattended)');
  await install({ ...options, stdio: 'pipe' });
}
configure(options);

const child = run(options, projectDir);
let stopping = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: stopping HarperDB`);
  // From a terminal HarperDB gets the same SIGINT; forward it only if it is still running.
  setTimeout(() => void stop(child), 1000).unref();
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
child.on('exit', (code, signal) => {
  log.info({ code, signal }, 'HarperDB stopped');
  process.exit(code ?? (signal ? 1 : 0));
});

try {
  await waitUntilReady(ports.mqtt, child);
} catch (error) {
  log.error((error as Error).message);
  await stop(child);
  process.exit(1);
}

process.stdout.write(`
harper-mqtt-bridge is running
  MQTT            mqtt://localhost:${ports.mqtt}   (TLS ${ports.mqtts}, WebSocket ws://localhost:${ports.http})
  REST            http://localhost:${ports.http}/   e.g. /mqtt_topics/  /mqtt_history/  /<topic>
  Operations API  http://localhost:${ports.operations}/
  Admin           ${options.adminUser} / ${options.adminPassword}   (localhost needs no credentials)
  Data            ${options.rootPath}
Try: mosquitto_sub -p ${ports.mqtt} -t '#' -v    and    mosquitto_pub -p ${ports.mqtt} -t hello/world -m hi
Press Ctrl-C to stop.
`);
