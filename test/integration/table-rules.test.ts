// Table rules: topics matching a pattern are rows of one table with their named levels (and typed
// payload fields) as indexed columns, next to the one-table-per-level mapping for everything else.
import { afterEach, describe, expect, it } from 'vitest';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

const RULES = [
  { pattern: 'org/+org/devices/+device/+metric', table: 'device_metrics', columns: { temperature: 'Float', battery: { type: 'Int', field: 'power.battery' } } },
  { pattern: 'org/special/devices/+device/+metric', table: 'special_metrics' },
  { pattern: '+site/logs/#path', table: 'site_logs' },
];

describe('table rules', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_TOPIC_RULES: JSON.stringify(RULES), MQTT_BRIDGE_FAN_OUT_WARNING: '4', MQTT_BRIDGE_SYS_INTERVAL: '1' } });
  const http = () => `http://127.0.0.1:${instance().info.ports.http}`;
  const json = async (path: string) => (await fetch(http() + path)).json() as Promise<any>;
  const mqttConnect = (options: object = {}) => connect({ port: instance().info.ports.mqtt, ...options });
  const tablesUnder = async (prefix: string) => ((await json('/mqtt_topics/?select(prefix)')) as string[]).filter((p) => p.startsWith(prefix));

  it('keeps every matching topic as a row of one table, levels and payload fields as queryable columns', async () => {
    const org = unique('org');
    const client = await mqttConnect();
    const readings: Array<[string, string]> = [
      ['d1/temp', '{"temperature": 21.5, "power": {"battery": 90}}'],
      ['d2/temp', '{"temperature": 41.0, "power": {"battery": 12}}'],
      ['d2/humidity', '{"humidity": 55}'],
      ['d3/temp', 'not json'],
    ];
    for (const [rest, payload] of readings) await publish(client, `org/${org}/devices/${rest}`, payload, { qos: 1, retain: true });

    const d2 = (await json(`/device_metrics/?org=${org}&device=d2&sort(metric)&select(topic,org,device,metric,temperature,battery)`)) as object[];
    expect(d2).toEqual([
      { topic: `org/${org}/devices/d2/humidity`, org, device: 'd2', metric: 'humidity', temperature: null, battery: null },
      { topic: `org/${org}/devices/d2/temp`, org, device: 'd2', metric: 'temp', temperature: 41, battery: 12 },
    ]);
    // select() of one field answers with bare values
    expect(await json(`/device_metrics/?org=${org}&temperature=gt=40&select(device)`)).toEqual(['d2']);
    expect(await json(`/device_metrics/?org=${org}&metric=temp&select(device)&sort(device)`)).toEqual(['d1', 'd2', 'd3']);
    expect(await tablesUnder('org/')).toEqual([]); // no table per device
  });

  it('gives a topic to the most specific rule', async () => {
    const client = await mqttConnect();
    const device = unique('dev');
    await publish(client, `org/special/devices/${device}/temp`, '{"temperature": 5}', { qos: 1, retain: true });
    expect(await json(`/special_metrics/?device=${device}&select(topic)`)).toEqual([`org/special/devices/${device}/temp`]);
    expect(await json(`/device_metrics/?device=${device}&select(topic)`)).toEqual([]);
  });

  it('answers REST by topic path with the exact bytes, and lists the level below', async () => {
    const org = unique('org');
    const site = unique('site');
    const client = await mqttConnect();
    const spaced = '{ "temperature" : 21.50 }';
    const binary = Buffer.from([0, 1, 2, 255]);
    await publish(client, `org/${org}/devices/d9/temp`, spaced, { qos: 1, retain: true });
    await publish(client, `org/${org}/devices/d9/raw`, binary, { qos: 1, retain: true });
    await publish(client, `${site}/logs/a/b/c`, 'deep', { qos: 1, retain: true });
    const exact = await fetch(`${http()}/org/${org}/devices/d9/temp`);
    expect(exact.headers.get('content-type')).toMatch(/application\/json/);
    expect(await exact.text()).toBe(spaced);
    expect(Buffer.from(await (await fetch(`${http()}/org/${org}/devices/d9/raw`)).arrayBuffer())).toEqual(binary);
    expect(await (await fetch(`${http()}/${site}/logs/a/b/c`)).text()).toBe('deep'); // a rule whose first level is a wildcard
    const listing = (await json(`/org/${org}/devices/d9/`)) as Array<{ topic: string; device: string; format: string }>;
    expect(listing.map((row) => [row.topic, row.device, row.format]).sort()).toEqual([
      [`org/${org}/devices/d9/raw`, 'd9', 'binary'],
      [`org/${org}/devices/d9/temp`, 'd9', 'json'],
    ]);
    expect((await fetch(`${http()}/org/${org}/devices/d9/nothing`)).status).toBe(404);
  });

  it('keeps retained semantics across rule tables and per-level tables: set, replace, clear, wildcards, history', async () => {
    const org = unique('org');
    const home = unique('home');
    const client = await mqttConnect();
    await publish(client, `org/${org}/devices/d1/temp`, 'first', { qos: 1, retain: true });
    await publish(client, `org/${org}/devices/d1/temp`, 'second', { qos: 1, retain: true });
    await publish(client, `org/${org}/devices/d2/temp`, 'gone soon', { qos: 1, retain: true });
    await publish(client, `org/${org}/devices/d2/temp`, '', { qos: 1, retain: true });
    await publish(client, `${home}/kitchen/temp`, 'hierarchical', { qos: 1, retain: true });
    await publish(client, `org/${org}/devices/d3/temp`, 'not retained', { qos: 1 });

    // One filter over both kinds of table (this instance is the test's own, so '#' sees only its topics and $SYS-free rows).
    const late = await mqttConnect();
    const all = record(late);
    await subscribe(late, '#');
    const received = all;
    const mine = () => received.filter((m) => m.topic.includes(org) || m.topic.includes(home));
    await waitFor(() => mine().length >= 2, 'retained messages');
    await quietPeriod();
    expect(mine().map((m) => [m.topic, m.payload.toString(), m.retain]).sort()).toEqual([
      [`${home}/kitchen/temp`, 'hierarchical', true],
      [`org/${org}/devices/d1/temp`, 'second', true],
    ]);
    await publish(client, `org/${org}/devices/d4/temp`, 'live', { qos: 1, retain: true });
    await waitFor(() => received.some((m) => m.payload.toString() === 'live'), 'the live message');
    expect(received.filter((m) => m.payload.toString() === 'live').map((m) => m.retain)).toEqual([false]);
    await waitFor(async () => ((await json(`/mqtt_history/?topic=org/${org}/devices/d3/temp&select(payload)`)) as unknown[]).length > 0, 'the history row');
    expect(await json(`/mqtt_history/?topic=org/${org}/devices/d3/temp&select(payload)`)).toEqual(['not retained']);
    expect(await json(`/device_metrics/?org=${org}&select(device)&sort(device)`)).toEqual(['d1', 'd4']);
  });

  it('keeps a retained message whose key is too long for HarperDB, readable by topic path', async () => {
    const org = unique('org');
    const home = unique('long');
    const longLevel = 'L'.repeat(3000);
    const client = await mqttConnect({ protocolVersion: 5 });
    const acks = [
      await client.publishAsync(`${home}/${longLevel}`, 'per-level', { qos: 1, retain: true }),
      await client.publishAsync(`org/${org}/devices/${longLevel}/temp`, 'rule', { qos: 1, retain: true }),
    ];
    expect(acks.map((ack) => (ack as { reasonCode?: number } | undefined)?.reasonCode ?? 0)).toEqual([0, 0]);
    const late = await mqttConnect();
    const received = record(late);
    await subscribe(late, [`${home}/#`, `org/${org}/#`]);
    await waitFor(() => received.length === 2, 'both retained messages');
    expect(received.map((m) => m.payload.toString()).sort()).toEqual(['per-level', 'rule']);
    expect(await (await fetch(`${http()}/${home}/${longLevel}`)).text()).toBe('per-level');
  });

  it('streams thousands of retained rows to a new subscriber, pacing them to it, while others are served', async () => {
    const org = unique('org');
    const client = await mqttConnect();
    const count = 3000;
    await Promise.all(Array.from({ length: count }, (_, i) => publish(client, `org/${org}/devices/d${i}/temp`, String(i), { qos: 1, retain: true })));
    const late = await mqttConnect({ protocolVersion: 5, properties: { receiveMaximum: 10 } });
    const received = record(late);
    const started = Date.now();
    await subscribe(late, `org/${org}/#`, { qos: 1 });
    const other = await mqttConnect();
    const echo = record(other);
    await subscribe(other, `${org}/echo`);
    await publish(client, `${org}/echo`, 'meanwhile');
    await waitFor(() => echo.length === 1, 'a message to another client while the retained rows stream', 2000);
    await waitFor(() => received.length === count, `${count} retained messages`, 30_000);
    expect(new Set(received.map((m) => m.topic)).size).toBe(count);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});

describe('table rules at runtime', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_FAN_OUT_WARNING: '4', MQTT_BRIDGE_SYS_INTERVAL: '1' } });
  const http = () => `http://127.0.0.1:${instance().info.ports.http}`;
  // null until the row exists (a missing $SYS row is a 404 without a body).
  const json = async (path: string) => {
    const response = await fetch(http() + path);
    return (response.ok ? response.json() : null) as Promise<any>;
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${http()}/mqtt_topic_rules/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('warns once about a level that fans out into many tables, with the rule that folds them, in the log and $SYS', async () => {
    const client = await connect({ port: instance().info.ports.mqtt });
    for (let i = 1; i <= 4; i++) await publish(client, `fanned/d${i}/status`, 'on', { qos: 1, retain: true });
    await waitFor(() => instance().logFile().includes('topic tables under fanned/+/'), 'the fan-out warning');
    const warnings = instance()
      .logFile()
      .split('\n')
      .filter((line) => line.includes('topic tables under fanned/+/'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('pattern: "fanned/+fanned_id/#rest"');
    await waitFor(async () => (await json('/$SYS/broker/tables/fanout/count'))?.value === '1', '$SYS fan-out count', 15_000);
    expect((await json('/$SYS/broker/tables/fanout/largest')).value).toBe('4 tables under fanned/+/; rule: fanned/+fanned_id/#rest');
  });

  it('adds a rule over REST, moves the retained rows it now owns into its table, and stores new ones there', async () => {
    const client = await connect({ port: instance().info.ports.mqtt });
    for (let i = 1; i <= 3; i++) await publish(client, `moved/d${i}/status`, `on${i}`, { qos: 1, retain: true });
    const response = await post({ pattern: 'moved/+device/+metric', table: 'moved_status' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ pattern: 'moved/+device/+metric', table: 'moved_status', migrated: 3 });
    await publish(client, `moved/d4/status`, 'on4', { qos: 1, retain: true });
    expect(await json('/moved_status/?select(device,payload)&sort(device)')).toEqual([
      { device: 'd1', payload: 'on1' },
      { device: 'd2', payload: 'on2' },
      { device: 'd3', payload: 'on3' },
      { device: 'd4', payload: 'on4' },
    ]);
    const late = await connect({ port: instance().info.ports.mqtt });
    const received = record(late);
    await subscribe(late, 'moved/#');
    await waitFor(() => received.length === 4, 'four retained messages, once each');
    await quietPeriod();
    expect(received).toHaveLength(4);
    const listed = (await json('/mqtt_topic_rules/')) as Array<{ id: string; pattern: string; source: string }>;
    const rule = listed.find((r) => r.pattern === 'moved/+device/+metric')!;
    expect(rule.source).toBe('runtime');
    // Removing it keeps the table; new retained messages go back to per-level tables.
    expect((await fetch(`${http()}/mqtt_topic_rules/${rule.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(((await json('/mqtt_topic_rules/')) as unknown[]).length).toBe(listed.length - 1);
  });

  it('refuses a bad rule with a message naming the problem, and only admins may change rules', async () => {
    const bad = await post({ pattern: 'x/+a', table: 'mqtt_sneaky' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toBe('HttpError: rule: (x/+a) table "mqtt_sneaky" is reserved (mqtt, mqtt_* and sys are this component\'s own)');
    const noPattern = await post({ table: 'nothing' });
    expect(noPattern.status).toBe(400);
    expect(await noPattern.json()).toBe('HttpError: rule: pattern undefined: a pattern must be a non-empty topic filter');
    const stranger = await post({ pattern: 'x/+a', table: 'x_table' }, { authorization: 'Basic ' + Buffer.from('nobody:wrong').toString('base64') });
    expect(stranger.status).toBe(401);
  });

  it('moves existing retained rows into a rule that config.yaml gains, at the next start', async () => {
    const client = await connect({ port: instance().info.ports.mqtt });
    for (let i = 1; i <= 3; i++) await publish(client, `later/d${i}/status`, `on${i}`, { qos: 1, retain: true });
    await client.endAsync();
    await instance().restart({ MQTT_BRIDGE_TOPIC_RULES: JSON.stringify([{ pattern: 'later/+device/+metric', table: 'later_status' }]) });
    // The rule table's REST path may answer 404 for a moment after the start: wait through it.
    await waitFor(async () => (((await json('/later_status/?select(device)')) as unknown[] | null) ?? []).length === 3, 'three rows moved into the rule table', 10_000);
    await waitFor(() => instance().logFile().includes('moved 3 retained messages into data.later_status (rule later/+device/+metric)'), 'the log line');
    const late = await connect({ port: instance().info.ports.mqtt });
    const received = record(late);
    await subscribe(late, 'later/#');
    await waitFor(() => received.length === 3, 'the three retained messages');
    await quietPeriod();
    expect(received.map((m) => m.payload.toString()).sort()).toEqual(['on1', 'on2', 'on3']);
  });
});
