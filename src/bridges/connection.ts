// MQTT.js options for a remote broker. TLS files are read when the bridge starts (the spec only
// names them), so a rotated certificate is picked up by changing or restarting the bridge.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IStore, type MqttClient } from 'mqtt';
import type { BridgeSpec } from './spec.js';

/** Reconnect attempts after a lost or refused connection: MQTT.js retries at this period. */
const RECONNECT_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;

export function clientOptions(spec: BridgeSpec): IClientOptions {
  const options: IClientOptions = {
    protocolVersion: spec.protocol,
    clientId: spec.clientId,
    keepalive: spec.keepalive,
    clean: spec.clean,
    reconnectPeriod: RECONNECT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // The bridge resends what the remote did not acknowledge itself (from the message log), and
    // subscribes again on every connection.
    resubscribe: true,
    queueQoSZero: false,
  };
  if (spec.protocol === 5) options.properties = { sessionExpiryInterval: spec.clean ? 0 : spec.sessionExpiry };
  if (spec.username !== undefined) options.username = spec.username;
  if (spec.password !== undefined) options.password = spec.password;
  if (spec.tls) {
    options.rejectUnauthorized = spec.tls.rejectUnauthorized;
    if (spec.tls.ca) options.ca = readFileSync(spec.tls.ca);
    if (spec.tls.cert) options.cert = readFileSync(spec.tls.cert);
    if (spec.tls.key) options.key = readFileSync(spec.tls.key);
  }
  return options;
}

/** `outgoingStore`: keeps the QoS 2 exchanges in flight across restarts (InflightStore). */
export function connectRemote(spec: BridgeSpec, outgoingStore: IStore): MqttClient {
  return mqtt.connect(spec.url, { ...clientOptions(spec), outgoingStore });
}

/** Node's codes for a remote certificate that was not accepted. */
const CERTIFICATE_PROBLEMS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A connection error as the status shows it: a refused certificate says which setting to look at. */
export function connectionProblem(error: unknown): string {
  const { message, code } = (error ?? {}) as { message?: string; code?: string };
  const text = message ?? String(error);
  if (code && CERTIFICATE_PROBLEMS.has(code)) return `TLS: the remote's certificate was not accepted: ${text} (${code}); check tls.ca (the CA that signed it) and the host name in the url`;
  return text;
}
