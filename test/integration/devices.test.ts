// Device credentials on a HarperDB that requires credentials from localhost too
// (authentication.authorizeLocal: false): lifecycle over REST, two organizations that cannot reach
// each other by any path, expiry and revocation (also of a connected device), HTTP ingest and
// telemetry with every status, and the component's tables refusing writes from outside.
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { closeAll, connect, publish, quietPeriod, record, sleep, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { ownInstance } from '../helpers/instance.js';
import { RawClient } from '../helpers/raw.js';

afterEach(closeAll);

const instance = ownInstance({
  threads: 2,
  authorizeLocal: false,
  env: {
    MQTT_BRIDGE_ACCESS_RULES: JSON.stringify(['allow readwrite users/%u/#', 'allow read clients/%c/#']),
    MQTT_BRIDGE_INGEST_MAX_BYTES: '4KiB',
    MQTT_BRIDGE_INGEST_MAX_BATCH: '50',
    MQTT_BRIDGE_INGEST_RATE_LIMIT: '40',
  },
});
const port = () => instance().info.ports.mqtt;
const base = () => `http://127.0.0.1:${instance().info.ports.http}`;
const basic = (username: string, password: string) => 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
const admin = () => basic(instance().info.adminUser, instance().info.adminPassword);

interface Reply {
  status: number;
  body: any;
  text: string;
}

async function http(method: string, path: string, options: { auth?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.auth) headers.authorization = options.auth;
  const response = await fetch(base() + path, { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
  let text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
    if (typeof body === 'string') text = body; // HarperDB sends an error message as a JSON string
  } catch {
    /* not JSON */
  }
  return { status: response.status, body, text };
}

async function operation(body: object): Promise<Reply> {
  const response = await fetch(`http://127.0.0.1:${instance().info.ports.operations}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: admin() },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null), text: '' };
}

interface Credential {
  username: string;
  password: string;
  prefixes: string[];
}

async function credential(fields: Record<string, unknown>): Promise<Credential> {
  const reply = await http('POST', '/mqtt_credentials/', { auth: admin(), body: fields });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as Credential;
}

/** SUBACK codes of a new connection of `cred`, refusals included (MQTT.js rejects those). */
async function suback(cred: Credential, version: 4 | 5, filters: string[], clientId = unique('raw')): Promise<number[]> {
  const { client, connack } = await RawClient.open(version, { clientId, username: cred.username, password: Buffer.from(cred.password) }, port());
  expect(connack.returnCode ?? connack.reasonCode).toBe(0);
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map((topic) => ({ topic, qos: 1 })) });
  const { granted } = (await client.next('suback')) as { granted: number[] };
  client.close();
  return granted;
}

const device = (cred: Credential, options: Record<string, unknown> = {}) => connect({ port: port(), username: cred.username, password: cred.password, ...options });

describe('device credentials', () => {
  it('are generated (password once, 32+ characters), listed without it, rotated and revoked by admins only', async () => {
    const name = unique('dev');
    const made = await credential({ username: name, prefixes: ['org_life'], clientId: 'pin-1', expiresInSeconds: 3600 });
    expect(made.password).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(made.prefixes).toEqual(['org_life/#']);

    const list = await http('GET', '/mqtt_credentials/', { auth: admin() });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(made.password);
    const listed = (list.body as Array<Record<string, unknown>>).find((row) => row.username === name)!;
    expect(listed).toMatchObject({ clientId: 'pin-1', prefixes: ['org_life/#'], status: 'active', connectionCount: 0 });
    expect(listed).not.toHaveProperty('password');

    expect((await http('POST', '/mqtt_credentials/', { auth: admin(), body: { username: name, prefixes: ['x'] } })).status).toBe(409);
    const bad = await http('POST', '/mqtt_credentials/', { auth: admin(), body: { prefixes: ['#'] } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('prefix "#"');
    expect((await http('POST', '/mqtt_credentials/', { auth: admin(), body: { prefixes: ['a'], colour: 'red' } })).text).toContain('unknown field "colour"');
    // The device itself, and nobody, may not manage credentials.
    expect((await http('GET', '/mqtt_credentials/', { auth: basic(name, made.password) })).status).toBe(403);
    expect((await http('GET', '/mqtt_credentials/')).status).toBe(401);

    // Pinned client id; statistics count the connection.
    const refused = await RawClient.open(5, { clientId: 'other', username: name, password: Buffer.from(made.password) }, port());
    expect(refused.connack.reasonCode).toBe(0x85);
    await device(made, { clientId: 'pin-1' });
    await waitFor(async () => ((await http('GET', `/mqtt_credentials/${name}`, { auth: admin() })).body.connectionCount === 1 ? true : undefined), 'connection counted');

    const rotated = await http('POST', `/mqtt_credentials/${name}/rotate`, { auth: admin() });
    expect(rotated.status).toBe(200);
    expect(rotated.body.password).not.toBe(made.password);
    const old = await RawClient.open(4, { clientId: 'pin-1', username: name, password: Buffer.from(made.password) }, port());
    expect(old.connack.returnCode).toBe(4);
    await device({ ...made, password: rotated.body.password }, { clientId: 'pin-1' });
  });

  it('a connected device is disconnected within seconds of its revocation, and refused afterwards on MQTT and HTTP', async () => {
    const cred = await credential({ prefixes: ['org_rev'] });
    const client = await device(cred, { protocolVersion: 5 });
    const disconnected = new Promise<number>((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode ?? -1)));
    const started = Date.now();
    expect((await http('DELETE', `/mqtt_credentials/${cred.username}`, { auth: admin() })).body.status).toBe('revoked');
    expect(await disconnected).toBe(0x98);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await RawClient.open(5, { username: cred.username, password: Buffer.from(cred.password) }, port())).connack.reasonCode).toBe(0x86);
    expect((await RawClient.open(4, { username: cred.username, password: Buffer.from(cred.password) }, port())).connack.returnCode).toBe(4);
    expect((await http('POST', '/mqtt-ingest', { auth: basic(cred.username, cred.password), body: { topic: 'org_rev/x', payload: 1 } })).status).toBe(401);
  });

  it('an expired credential is refused (0x87 / 5, HTTP 401) and ends the connection', async () => {
    const cred = await credential({ prefixes: ['org_exp'] });
    const client = await device(cred, { protocolVersion: 5 });
    const disconnected = new Promise<number>((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode ?? -1)));
    const changed = await http('PATCH', `/mqtt_credentials/${cred.username}`, { auth: admin(), body: { expiresAt: Date.now() - 1000 } });
    expect(changed.body.status).toBe('expired');
    expect(await disconnected).toBe(0x98);
    expect((await RawClient.open(5, { username: cred.username, password: Buffer.from(cred.password) }, port())).connack.reasonCode).toBe(0x87);
    expect((await RawClient.open(4, { username: cred.username, password: Buffer.from(cred.password) }, port())).connack.returnCode).toBe(5);
    const ingest = await http('POST', '/mqtt-ingest', { auth: basic(cred.username, cred.password), body: { topic: 'org_exp/x', payload: 1 } });
    expect(ingest.status).toBe(401);
    expect(ingest.text).toContain('expired');
    // Every HTTP path that publishes checks the credential the same way.
    expect((await http('POST', '/mqtt_publish/', { auth: basic(cred.username, cred.password), body: { topic: 'org_exp/x', payload: 1 } })).status).toBe(401);
    // Cleared expiry: accepted again.
    await http('PATCH', `/mqtt_credentials/${cred.username}`, { auth: admin(), body: { expiresAt: null } });
    await device(cred);
  });

  it('every client needs credentials, localhost included', async () => {
    expect((await RawClient.open(5, {}, port())).connack.reasonCode).toBe(0x87);
    expect((await RawClient.open(4, {}, port())).connack.returnCode).toBe(5);
  });
});

describe('two organizations', () => {
  let a: Credential;
  let b: Credential;
  const org = unique('org');
  const orgA = `${org}_a`;
  const orgB = `${org}_b`;

  async function setUp(): Promise<void> {
    a ??= await credential({ prefixes: [orgA] });
    b ??= await credential({ prefixes: [orgB] });
  }

  it.each([4, 5] as const)('MQTT %i: wildcards and foreign prefixes are refused; nothing of the other reaches a device', async (protocolVersion) => {
    await setUp();
    const aClient = await device(a, { protocolVersion });
    await publish(aClient, `${orgA}/devices/d1/state`, `retained ${protocolVersion}`, { qos: 1, retain: true });
    const bClient = await device(b, { protocolVersion });
    const received = record(bClient);
    const denied = protocolVersion === 5 ? 0x87 : 0x80;
    expect(await suback(b, protocolVersion, ['#', '+/devices/#', `${orgA}/#`, `${orgB}/#`])).toEqual([denied, denied, denied, 1]);
    await subscribe(bClient, `${orgB}/#`, { qos: 1 });
    await publish(aClient, `${orgA}/devices/d1/temp`, 'live', { qos: 1 });
    await publish(aClient, `${orgB}/devices/x`, 'forged', { qos: 0 }).catch(() => undefined);
    await quietPeriod();
    expect(received.map((message) => message.topic)).toEqual([]);
  });

  it('MQTT 5: a publish outside the prefix gets PUBACK 0x87; MQTT 3.1.1: the connection is closed', async () => {
    await setUp();
    const v5 = await RawClient.open(5, { username: a.username, password: Buffer.from(a.password) }, port());
    v5.client.send({ cmd: 'publish', topic: `${orgB}/x`, payload: Buffer.from('no'), qos: 1, messageId: 7 });
    expect(((await v5.client.next('puback')) as { reasonCode: number }).reasonCode).toBe(0x87);
    v5.client.close();
    const v4 = await RawClient.open(4, { username: a.username, password: Buffer.from(a.password) }, port());
    v4.client.send({ cmd: 'publish', topic: `${orgB}/x`, payload: Buffer.from('no'), qos: 1, messageId: 7 });
    await v4.client.closed;
  });

  it('over REST a device reads its own prefix only: topic paths, telemetry, history', async () => {
    await setUp();
    const aClient = await device(a);
    await publish(aClient, `${orgA}/devices/d2/temp`, '{"celsius":21.5}', { qos: 1, retain: true });
    const auth = basic(a.username, a.password);
    expect((await http('GET', `/${orgA}/devices/d2/temp`, { auth })).body).toMatchObject({ celsius: 21.5 });
    const bAuth = basic(b.username, b.password);
    expect((await http('GET', `/${orgA}/devices/d2/temp`, { auth: bAuth })).status).toBe(403);
    expect((await http('GET', `/mqtt-telemetry/?topic=${orgA}/%23`, { auth: bAuth })).status).toBe(403);
    expect((await http('GET', '/mqtt-telemetry/?topic=%23', { auth: bAuth })).status).toBe(403);
    expect((await http('GET', '/mqtt_history/', { auth: bAuth })).status).toBe(403);
    expect((await http('POST', '/mqtt_publish/', { auth: bAuth, body: { topic: `${orgA}/devices/d2/temp`, payload: 'forged' } })).status).toBe(403);
    expect((await http('POST', '/mqtt_publish/', { auth: bAuth, body: { topic: `${orgB}/devices/d9/temp`, payload: 'own' } })).status).toBe(200);
    const telemetry = await waitFor(async () => {
      const reply = await http('GET', `/mqtt-telemetry/?topic=${orgA}/devices/%2B/temp&limit=5`, { auth });
      // History rows are written just behind the messages: wait for this one (an earlier test's d1 row may come first).
      return reply.status === 200 && reply.body[0]?.topic === `${orgA}/devices/d2/temp` ? reply.body : undefined;
    }, 'the d2 telemetry row, newest first');
    expect(telemetry[0]).toMatchObject({ topic: `${orgA}/devices/d2/temp`, payload: { celsius: 21.5 }, format: 'json' });
  });

  it('access rules with %u and %c add topics to a device', async () => {
    await setUp();
    const clientId = unique('cid');
    const aClient = await device(a, { clientId });
    const watcher = await device(a, { clientId: unique('watch') });
    const seen = record(watcher);
    expect(await suback(a, 5, [`users/${a.username}/#`, `users/${b.username}/#`])).toEqual([1, 0x87]);
    await subscribe(watcher, `users/${a.username}/#`, { qos: 1 });
    await publish(aClient, `users/${a.username}/note`, 'mine', { qos: 1 });
    expect(await suback(a, 4, [`clients/${clientId}/#`, `clients/other/#`], clientId)).toEqual([1, 0x80]);
    await waitFor(() => seen.length === 1, 'own user topic');
    expect(seen[0]!.payload.toString()).toBe('mine');
  });
});

describe('HTTP ingest', () => {
  let cred: Credential;
  const org = unique('ing');

  async function listener(): Promise<{ client: MqttClient; received: ReturnType<typeof record> }> {
    cred ??= await credential({ prefixes: [org] });
    const client = await device(cred);
    const received = record(client);
    await subscribe(client, `${org}/#`, { qos: 1 });
    return { client, received };
  }

  it('one message or a batch, Basic or Bearer + X-Username: 202 once routed, bytes as sent', async () => {
    const { received } = await listener();
    const one = await http('POST', '/mqtt-ingest', { auth: basic(cred.username, cred.password), body: { topic: `${org}/d/json`, payload: { a: 1.5 }, qos: 1 } });
    expect(one).toMatchObject({ status: 202, body: { accepted: 1 } });
    const batch = await http('POST', '/mqtt-ingest', {
      headers: { authorization: `Bearer ${cred.password}`, 'x-username': cred.username },
      body: [
        { topic: `${org}/d/text`, payload: 'plain text' },
        { topic: `${org}/d/bytes`, payloadBase64: Buffer.from([0, 1, 2, 255]).toString('base64') },
        { topic: `${org}/d/state`, payload: 'on', retain: true },
      ],
    });
    expect(batch).toMatchObject({ status: 202, body: { accepted: 3 } });
    await waitFor(() => received.length === 4, 'four messages');
    expect(received.map((m) => [m.topic, m.payload.toString('hex')])).toEqual([
      [`${org}/d/json`, Buffer.from('{"a":1.5}').toString('hex')],
      [`${org}/d/text`, Buffer.from('plain text').toString('hex')],
      [`${org}/d/bytes`, '000102ff'],
      [`${org}/d/state`, Buffer.from('on').toString('hex')],
    ]);
    // Retained like an MQTT publish.
    expect((await http('GET', `/${org}/d/state`, { auth: basic(cred.username, cred.password) })).text).toBe('on');
  });

  it('answers 400, 401, 403, 413 and 429 with a reason, and publishes nothing of a refused request', async () => {
    const { received } = await listener();
    const auth = basic(cred.username, cred.password);
    const cases: Array<[unknown, number, string]> = [
      [{ topic: `${org}/+`, payload: 1 }, 400, 'wildcards'],
      [{ payload: 1 }, 400, 'topic must be'],
      [{ topic: `${org}/x`, qos: 3 }, 400, 'qos'],
      [{ topic: `${org}/x`, payload: 1, payloadBase64: 'AA==' }, 400, 'not both'],
      [[{ topic: `${org}/ok`, payload: 1 }, { topic: 'elsewhere/x', payload: 1 }], 403, 'message 1: not allowed'],
      [{ topic: '$SYS/broker/version', payload: 'x' }, 403, '$SYS'],
      [Array.from({ length: 51 }, () => ({ topic: `${org}/many`, payload: 1 })), 413, 'at most 50'],
      [{ topic: `${org}/big`, payload: 'x'.repeat(5000) }, 413, 'ingestMaxBytes'],
      [Array.from({ length: 41 }, () => ({ topic: `${org}/fast`, payload: 1 })), 429, 'ingestRateLimit'],
    ];
    for (const [body, status, reason] of cases) {
      const reply = await http('POST', '/mqtt-ingest', { auth, body });
      expect([reply.status, reply.text], JSON.stringify(body).slice(0, 80)).toEqual([status, expect.stringContaining(reason)]);
    }
    expect((await http('POST', '/mqtt-ingest', { auth, raw: '{not json' })).status).toBe(400);
    expect((await http('POST', '/mqtt-ingest', { auth: basic(cred.username, 'wrong'), body: { topic: `${org}/x` } })).status).toBe(401);
    expect((await http('POST', '/mqtt-ingest', { body: { topic: `${org}/x` } })).status).toBe(401);
    await quietPeriod();
    // The retained message of the test before comes with the new subscription; nothing else may.
    expect(received.filter((message) => message.topic !== `${org}/d/state`)).toEqual([]);
  });
});

describe('tables the component keeps', () => {
  it('refuse REST writes: the forged $SYS value never reaches a subscriber', async () => {
    const watcher = await connect({ port: port(), username: instance().info.adminUser, password: instance().info.adminPassword });
    const seen = record(watcher);
    await subscribe(watcher, '$SYS/broker/version');
    for (const path of ['/sys/broker/version', '/$SYS/broker/version']) {
      expect((await http('PUT', path, { auth: admin(), body: { value: 'forged' } })).status).toBe(403);
    }
    expect((await http('DELETE', '/sys/broker/uptime', { auth: admin() })).status).toBe(403);
    expect((await http('GET', '/sys/broker/uptime', { auth: admin() })).status).toBe(200);
    await sleep(300);
    expect(seen.map((message) => message.payload.toString())).not.toContain('forged');
  });

  it.each(['sys', 'mqtt_topics', 'mqtt_history_batches', 'mqtt_sessions', 'mqtt_wills', 'mqtt_log', 'mqtt_topic_rules', 'mqtt_topic_roots', 'mqtt_credentials', 'mqtt_sources', 'mqtt_source_positions', 'mqtt_console_clients'])(
    'refuse operations API writes, admins included: %s',
    async (table) => {
      const database = table === 'mqtt_history_batches' ? 'data_history' : 'data'; // the history has a database of its own
      for (const body of [
        { operation: 'insert', database, table, records: [{ id: 'forged', value: 'x' }] },
        { operation: 'upsert', database, table, records: [{ id: 'forged', value: 'x' }] },
        { operation: 'delete', database, table, hash_values: ['broker/version'] },
      ]) {
        const reply = await operation(body);
        expect(reply.body?.error, `${body.operation} ${table}`).toContain('read-only');
      }
    },
  );

  it('refuse operations API writes to a topic table', async () => {
    const client = await connect({ port: port(), username: instance().info.adminUser, password: instance().info.adminPassword });
    const topic = `${unique('guarded')}/a/b`;
    await publish(client, topic, 'kept', { qos: 1, retain: true });
    const prefix = topic.split('/').slice(0, -1).join('/') + '/';
    const table = await waitFor(async () => {
      const rows = (await http('GET', '/mqtt_topics/', { auth: admin() })).body as Array<{ prefix: string; id: string }>;
      return Array.isArray(rows) ? rows.find((row) => row.prefix === prefix)?.id : undefined;
    }, 'the topic table');
    const reply = await operation({ operation: 'update', database: 'data', table, records: [{ id: 'b', payload: 'forged' }] });
    expect(reply.body?.error).toContain('read-only');
    expect((await http('GET', `/${topic}`, { auth: admin() })).text).toBe('kept');
  });
});
