// HarperDB's own settings this component honours, read once at start through HarperDB's public
// `get_configuration` operation: who may connect without credentials, mTLS, and where HarperDB's
// own MQTT server listens (it must be off where this component listens).
import { server } from 'harperdb';

export interface MtlsSettings {
  /** Which certificate field names the HarperDB user: 'Common Name' (default); null: none. */
  user?: string | null;
  required?: boolean;
}

export interface HarperSettings {
  /** Clients from localhost are the super user without credentials (HarperDB's dev mode). */
  authorizeLocal: boolean;
  /** Clients must authenticate (mqtt.requireAuthentication). */
  requireAuthentication: boolean;
  mtls: MtlsSettings | false;
  /** HarperDB's own MQTT server. */
  harperMqtt: { port: number | null; securePort: number | null; webSocket: boolean };
}

type Config = Record<string, Record<string, unknown> | undefined>;

export async function readHarperSettings(): Promise<HarperSettings> {
  if (typeof server.operation !== 'function') throw new Error('harper-mqtt-bridge: server.operation is missing; this HarperDB version is not supported.');
  const config = (await server.operation({ operation: 'get_configuration' }, {}, false)) as Config;
  const mqtt = config.mqtt ?? {};
  const network = (mqtt.network ?? {}) as Record<string, unknown>;
  const authentication = config.authentication ?? {};
  const mtls = network.mtls;
  return {
    authorizeLocal: authentication.authorizeLocal === true || (authentication.authorizeLocal === undefined && !!process.env.DEV_MODE),
    requireAuthentication: mqtt.requireAuthentication !== false,
    mtls: mtls && typeof mtls === 'object' ? (mtls as MtlsSettings) : mtls === true ? {} : false,
    harperMqtt: {
      port: typeof network.port === 'number' ? network.port : null,
      securePort: typeof network.securePort === 'number' ? network.securePort : null,
      webSocket: mqtt.webSocket !== false && mqtt.webSocket !== null && mqtt.webSocket !== undefined,
    },
  };
}
