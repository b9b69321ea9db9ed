// harper-mqtt-bridge: HarperDB loads this file (config.yaml `jsResource`) on every worker thread.
// It only wires the modules together: configuration, the MQTT listeners, the per-thread services.
import { fileURLToPath } from 'node:url';
import { startServices } from './boot.js';
import type { BridgeReads } from './bridges/api.js';
import { registerConsole, type ConsoleServices } from './console/consoleApi.js';
import { ConfigError, DEFAULTS, readConfigSection, resolveConfig, resolveListeners, type BridgeConfig, type ListenerConfig } from './config.js';
import { log } from './harper/log.js';
import { profileThisThread } from './harper/profiler.js';
import { registerMetrics } from './metrics/metricsApi.js';
import { readHarperSettings, type HarperSettings } from './harper/settings.js';
import { workerIndex } from './harper/thread.js';
import type { HarperUser } from './authorize.js';
import { DeviceRefused } from './devices/devices.js';
import { acceptBearerPasswords } from './ingest/bearerAuth.js';
import { INGEST_PATH } from './ingest/ingestApi.js';
import { TELEMETRY_PATH } from './telemetry/telemetryApi.js';
import { ClientSession, type SessionServices } from './session/client.js';
import type { SourceStatuses } from './sources/sourcesApi.js';
import { Counters } from './stats/counters.js';
import { readFigures, type FigureSources } from './sys/figures.js';
import { Authenticator } from './wire/authentication.js';
import { mqttCompat } from './wire/compat.js';
import { ConnectRefused, type ServerLimits } from './wire/connect.js';
import { Connection } from './wire/connection.js';
import { listen, type ListenerOptions } from './wire/listeners.js';
import { StartupGate } from './wire/startupGate.js';

const CONFIG_FILE = fileURLToPath(new URL('../config.yaml', import.meta.url));
/** How long a CONNECT that arrives while this thread starts waits for it before "server busy". */
const STARTUP_WAIT_MS = 15_000;

function loadConfig(): BridgeConfig | ConfigError {
  try {
    return resolveConfig(readConfigSection(CONFIG_FILE), process.env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

/** Where to listen (also when other options are invalid: clients are then refused with a reason). */
function listenerOptions(listeners: ListenerConfig, settings: HarperSettings): ListenerOptions {
  const { port, securePort, webSocket, maxPacketSize } = listeners;
  const options = { port, securePort, webSocket, maxPacketSize, mtls: settings.mtls };
  // HarperDB's own MQTT server on the same port would take it: say so, and leave that port to it.
  for (const key of ['port', 'securePort'] as const) {
    const harper = settings.harperMqtt[key];
    if (options[key] && harper === options[key]) {
      if (workerIndex === 0) {
        log.error(
          `HarperDB's own MQTT server is configured on port ${harper} too (mqtt.network.${key} in harperdb-config.yaml); ` +
            `this component does not listen there. Turn HarperDB's off: mqtt: { network: { port: null, securePort: null }, webSocket: false } (README, "Install into an existing HarperDB").`,
        );
      }
      options[key] = 0;
    }
  }
  return options;
}

profileThisThread(process.env.MQTT_BRIDGE_CPU_PROFILE);
// Registered while HarperDB loads components, ahead of its authentication (seed 004's Bearer password).
acceptBearerPasswords([INGEST_PATH, TELEMETRY_PATH]);
const loaded = loadConfig();
const config = loaded instanceof ConfigError ? null : loaded;
if (loaded instanceof ConfigError && workerIndex === 0) log.error(`harper-mqtt-bridge is not serving: ${loaded.message}`);

const settings = await readHarperSettings();
const counters = new Counters();
const mqtt = mqttCompat(settings.requireAuthentication);
const authenticator = new Authenticator(settings);
const limits: ServerLimits = config ?? DEFAULTS;
const services = new StartupGate<SessionServices>();
let figureSources: FigureSources | undefined;
let consoleServices: ConsoleServices | undefined;
let sourceStatuses: SourceStatuses | null = null;
let bridgeReads: BridgeReads | undefined;

// Registered now, while HarperDB loads components: it starts listening once they are loaded.
listen(listenerOptions(config ?? resolveListeners(readConfigSection(CONFIG_FILE), process.env), settings), (socket) => {
  new Connection(socket, {
    limits,
    counters,
    mqtt,
    authenticate: (packet, from) => authenticator.authenticate(packet, from),
    async open(info, user, from, connection) {
      if (!config) throw new ConnectRefused(0x88, 'harper-mqtt-bridge is not configured correctly (see the log)');
      const ready = await services.within(STARTUP_WAIT_MS);
      if (services.hasFailed) throw new ConnectRefused(0x88, 'harper-mqtt-bridge failed to start (see the log)');
      // [MQTT-3.2.2-6]: "server busy" if this thread is still loading its tables after the wait.
      if (!ready) throw new ConnectRefused(0x89, 'harper-mqtt-bridge is starting');
      if (from.closed) throw new ConnectRefused(0x89, 'the client left while harper-mqtt-bridge was starting');
      const prefixes = admitDevice(ready, user, info.clientId);
      return new ClientSession(info, user, { socket: from, disconnect: (code, reason) => connection.disconnect(code, reason) }, ready, prefixes);
    },
  });
});

/** A device's topic prefixes (null for other users); a credential that may not connect now is refused. */
function admitDevice(services: SessionServices, user: HarperUser | undefined, clientId: string): readonly string[] | null {
  try {
    return services.devices.admit(user, clientId);
  } catch (error) {
    if (error instanceof DeviceRefused) throw new ConnectRefused(error.reasonCode, error.message);
    throw error;
  }
}

// Before the services start: our paths win over topic roots (REST topic paths) of the same name.
registerMetrics({
  anonymous: config?.metricsAnonymous ?? false,
  figures: () => (figureSources ? readFigures(figureSources) : null),
  sources: async () => (sourceStatuses ? sourceStatuses() : []),
  bridges: async () => (bridgeReads ? bridgeReads.list() : []),
});
registerConsole(new URL('./console/web/', import.meta.url), () => consoleServices ?? null);

if (config) {
  startServices(config, counters).then(
    (started) => {
      services.open(started.session);
      figureSources = started.figures;
      consoleServices = started.console;
      sourceStatuses = started.sources;
      bridgeReads = started.bridges;
      log.info(`ready: database ${config.database}, ${started.session.registry.size} topic tables, history ${config.historyTtl ? config.historyTtl + ' s' : 'off'}`);
    },
    (error) => {
      services.fail();
      log.error('harper-mqtt-bridge failed to start; MQTT clients are refused', error);
    },
  );
}
