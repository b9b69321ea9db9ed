// harper-mqtt-bridge: HarperDB loads this file (config.yaml `jsResource`) on every worker thread.
// It only wires the modules together: configuration, HarperDB hooks, and the per-thread services.
import { fileURLToPath } from 'node:url';
import { startServices } from './boot.js';
import { ConfigError, readConfigSection, resolveConfig, type BridgeConfig } from './config.js';
import { log } from './harper/log.js';
import { workerIndex } from './harper/thread.js';
import { ClientSession, type SessionServices } from './session/client.js';
import { ConnectRefused, PendingConnects, readConnect } from './session/connect.js';
import { installHooks, refuseAllClients } from './session/harperHooks.js';
import { Counters } from './stats/counters.js';
import { servedNatively } from './tables/ownership.js';
import { literalPart } from './topics/naming.js';
import { isSysTopic, topicFilterProblem, topicNameProblem } from './topics/validate.js';

function loadConfig(): BridgeConfig | null {
  try {
    return resolveConfig(readConfigSection(fileURLToPath(new URL('../config.yaml', import.meta.url))), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Every thread loads this file; one line in the log is enough.
    if (workerIndex === 0) log.error(`harper-mqtt-bridge is not serving: ${error.message}`);
    return null;
  }
}

const config = loadConfig();
if (config) serve(config);
else refuseAllClients('harper-mqtt-bridge is not configured correctly (see the log)');

function serve(config: BridgeConfig): void {
  const counters = new Counters();
  const pending = new PendingConnects();
  let services: SessionServices | undefined;

  // Hooks go in before anything is awaited, so no client is ever served by the stock routing.
  installHooks({
    counters,
    servedNatively(topicOrFilter, isFilter) {
      // Invalid topics and $SYS are always this component's to refuse or serve.
      if (isSysTopic(topicOrFilter)) return false;
      if (isFilter ? topicFilterProblem(topicOrFilter) : topicNameProblem(topicOrFilter)) return false;
      return servedNatively(isFilter ? literalPart(topicOrFilter) : topicOrFilter);
    },
    onConnect(packet) {
      // [MQTT-3.2.2-6]: "Server unavailable" until this thread has loaded its topic tables.
      if (!services) throw new ConnectRefused('harper-mqtt-bridge is starting', packet.protocolVersion === 5 ? 0x88 : 0x03);
      pending.add(readConnect(packet));
    },
    onConnected(clientId, user, transport) {
      const info = pending.take(clientId);
      if (!services || !info) return null;
      return new ClientSession(info, user, transport, services);
    },
  });

  startServices(config, counters).then(
    (started) => {
      services = started;
      log.info(`ready: database ${config.database}, ${started.registry.size} topic tables, history ${config.historyTtl ? config.historyTtl + ' s' : 'off'}`);
    },
    (error) => log.error('harper-mqtt-bridge failed to start; MQTT clients are refused', error),
  );
}
