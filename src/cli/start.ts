// `npm start`: HarperDB with this component loaded, data in <project>/.harper by default.
// First start installs HarperDB unattended. HarperDB's own environment variables (ROOTPATH,
// HDB_ADMIN_USERNAME, HDB_ADMIN_PASSWORD, HTTP_PORT, OPERATIONSAPI_NETWORK_PORT,
// MQTT_NETWORK_PORT, MQTT_NETWORK_SECUREPORT, REPLICATION_PORT, THREADS_COUNT, STORAGE_PREFETCHWRITES) are honoured, and
// the component's MQTT_BRIDGE_* options are checked before HarperDB starts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { ConfigError, readConfigSection, resolveConfig } from '../config.js';
import { configure, install, isInstalled, run, stop, waitUntilReady, type HarperOptions } from './harper.js';
import { planStart, StartError, type StartPlan } from './startOptions.js';

const log = pino({ name: 'harper-mqtt-bridge', base: undefined });
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A configuration mistake: one line naming the setting, exit code 2, nothing started. */
function refuse(message: string): never {
  process.stderr.write(`harper-mqtt-bridge: ${message}\n`);
  process.exit(2);
}

/** The admin password: HDB_ADMIN_PASSWORD, else one generated on first start and kept in the root. */
function adminPassword(plan: StartPlan): string {
  if (plan.adminPassword) return plan.adminPassword;
  if (existsSync(plan.passwordFile)) return readFileSync(plan.passwordFile, 'utf8').trim();
  mkdirSync(plan.rootPath, { recursive: true });
  const password = randomBytes(12).toString('base64url');
  writeFileSync(plan.passwordFile, password + '\n', { mode: 0o600 });
  return password;
}

/** A path relative to where npm start runs when it is inside it, else absolute. */
function shownPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith('..') ? inside : path;
}

function banner(plan: StartPlan): string {
  const { ports } = plan;
  const host = 'localhost';
  return `
harper-mqtt-bridge is running
  MQTT         mqtt://${host}:${ports.mqtt}
  MQTT TLS     mqtts://${host}:${ports.mqtts}   (HarperDB's certificate: docs/security.md)
  WebSocket    ws://${host}:${ports.http}/       (MQTT over WebSocket, subprotocol "mqtt")
  HTTP / REST  http://${host}:${ports.http}/   e.g. /mqtt_topics/  /mqtt_history/  /<topic>
  Console      http://${host}:${ports.http}/mqtt-console/   (web console, admin user)
  Metrics      http://${host}:${ports.http}/metrics   (Prometheus)
  Operations   http://${host}:${ports.operations}/
  Admin user   ${plan.adminUser}, password ${plan.adminPassword ? 'from HDB_ADMIN_PASSWORD' : `in ${shownPath(plan.passwordFile)}`}   ${plan.authorizeLocal ? '(clients from localhost are admin without credentials; AUTHORIZE_LOCAL=false requires them)' : '(every client needs credentials, localhost too)'}
  Data folder  ${plan.rootPath}
  Threads      ${plan.threads}
Try: mosquitto_sub -p ${ports.mqtt} -t '#' -v    and    mosquitto_pub -p ${ports.mqtt} -t hello/world -m hi
Press Ctrl-C to stop.
`;
}

let plan: StartPlan;
try {
  plan = planStart(process.env, projectDir, availableParallelism());
  resolveConfig(readConfigSection(join(projectDir, 'config.yaml')), process.env);
} catch (error) {
  if (error instanceof StartError || error instanceof ConfigError) refuse(error.message);
  throw error;
}

const password = adminPassword(plan);
const options: HarperOptions = {
  rootPath: plan.rootPath,
  home: plan.home,
  adminUser: plan.adminUser,
  adminPassword: password,
  ports: plan.ports,
  threads: plan.threads,
  authorizeLocal: plan.authorizeLocal,
  prefetchWrites: plan.prefetchWrites,
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
  await waitUntilReady(plan.ports.mqtt, child, { username: plan.adminUser, password });
} catch (error) {
  log.error((error as Error).message);
  await stop(child);
  process.exit(1);
}

process.stdout.write(banner(plan));
