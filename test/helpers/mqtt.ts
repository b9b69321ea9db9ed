// MQTT test clients (MQTT.js and the mosquitto command-line tools) against the test HarperDB.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient, type Packet } from 'mqtt';
import { inject } from 'vitest';

export const harper = () => inject('harper');
export const mqttPort = () => harper().ports.mqtt;
export const httpBase = () => `http://127.0.0.1:${harper().ports.http}`;

/** A topic prefix no other test uses. */
export const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

const clients = new Set<MqttClient>();

export async function connect(options: IClientOptions & { port?: number } = {}): Promise<MqttClient> {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port: options.port ?? mqttPort(),
    clientId: options.clientId ?? unique('client'),
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
  clients.add(client);
  // Messages can arrive in the same read as CONNACK (a resumed session's queue), before the caller
  // gets the client: keep them for `record`.
  const early: Received[] = [];
  earlyMessages.set(client, early);
  client.on('message', collectInto(early));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return client;
}

export async function closeAll(): Promise<void> {
  await Promise.all([...clients].map((client) => client.endAsync(true).catch(() => undefined)));
  clients.clear();
}

export interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  packet: Packet & { properties?: Record<string, unknown>; dup?: boolean };
}

const earlyMessages = new WeakMap<MqttClient, Received[]>();

function collectInto(received: Received[]) {
  return (topic: string, payload: Buffer, packet: Packet) => {
    const publish = packet as Packet & { qos: number; retain: boolean };
    received.push({ topic, payload: Buffer.from(payload), qos: publish.qos, retain: publish.retain, packet: publish });
  };
}

/**
 * Records every message the client receives from now on, and, for a client of `connect` on its
 * first call, those that came since CONNACK.
 */
export function record(client: MqttClient): Received[] {
  const early = earlyMessages.get(client);
  earlyMessages.delete(client);
  const received: Received[] = early ? [...early] : [];
  client.on('message', collectInto(received));
  return received;
}

export async function subscribe(client: MqttClient, filter: string | string[], options: { qos?: 0 | 1 | 2; nl?: boolean; rap?: boolean; rh?: number } = {}): Promise<number[]> {
  const granted = await client.subscribeAsync(filter, { qos: options.qos ?? 0, nl: options.nl, rap: options.rap, rh: options.rh } as never);
  const codes = granted.map((g) => g.qos);
  // A refused filter would otherwise show up later as a message that never came (tests of
  // refusals use RawClient and read the SUBACK themselves).
  if (codes.some((code) => code >= 0x80)) throw new Error(`SUBACK refused ${JSON.stringify(filter)}: ${codes.join(', ')}`);
  return codes;
}

export function publish(client: MqttClient, topic: string, payload: string | Buffer, options: IClientPublishOptions = {}) {
  return client.publishAsync(topic, payload, options);
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits long enough that a message that was going to arrive would have. */
export const quietPeriod = () => sleep(400);

export function mosquittoPub(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort()), ...args], (error, _stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

/** Starts mosquitto_sub; resolves its stdout when it exits (use -C count and -W timeout). */
export function mosquittoSub(args: string[]): { ready: Promise<void>; done: Promise<string> } {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(mqttPort()), ...args]);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const done = new Promise<string>((resolve) => child.on('exit', () => resolve(stdout)));
  // mosquitto_sub has no "subscribed" signal; it has sent SUBSCRIBE well within this time.
  const ready = sleep(700);
  return { ready, done };
}

/**
 * The worker thread serving `client`: it publishes to a probe topic and the history row id
 * (time-thread-sequence) names the thread that accepted the message.
 */
export async function threadOf(client: MqttClient): Promise<number> {
  const topic = `${unique('thread-probe')}/p`;
  await client.publishAsync(topic, 'which thread', { qos: 1 });
  return threadOfProbe(topic);
}

/** The worker thread that accepted the message just published on `topic` (its history row says). */
export async function threadOfProbe(topic: string): Promise<number> {
  // History rows are written behind the message (within moments when the broker is idle).
  const row = await waitFor(async () => {
    const response = await fetch(`${httpBase()}/mqtt_history/?topic=${encodeURIComponent(topic)}`);
    const rows = (await response.json()) as unknown;
    if (!Array.isArray(rows)) throw new Error(`the history answered ${response.status}: ${JSON.stringify(rows)}`);
    return (rows as Array<{ id: string }>)[0];
  }, 'the probe in the history');
  return parseInt(row.id.split('-')[1]!, 36);
}

/** A client connected to a given worker thread (connections spread over threads at random). */
export async function connectOnThread(thread: number, options: IClientOptions = {}, attempts = 40): Promise<MqttClient> {
  for (let i = 0; i < attempts; i++) {
    const client = await connect(options);
    if ((await threadOf(client)) === thread) return client;
    await client.endAsync(true);
    clients.delete(client);
  }
  throw new Error(`no connection landed on thread ${thread} in ${attempts} attempts`);
}

/**
 * Waits until the broker has accepted `count` messages on `topic` (they are in the history).
 * QoS 0 has no acknowledgement, so a test that must know a QoS 0 message is in uses this.
 */
export async function accepted(topic: string, count = 1): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const response = await fetch(`${httpBase()}/mqtt_history/?topic=${encodeURIComponent(topic)}&select(id,topic)`);
    const rows = (await response.json()) as unknown;
    if (!Array.isArray(rows)) throw new Error(`the history answered ${response.status}: ${JSON.stringify(rows)}`);
    if (rows.length >= count) return;
    if (Date.now() > deadline) throw new Error(`broker did not accept ${count} messages on ${topic}`);
    await sleep(20);
  }
}
