// GET /metrics on the shared HarperDB (two worker threads): the Prometheus output parses, and the
// figures move by exactly the traffic of a publisher and a subscriber on different threads.
import type { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../../src/cli/mosquitto.js';
import { closeAll, connect, connectOnThread, harper, httpBase, publish, sleep, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { operation } from '../helpers/operations.js';
import { request } from '../helpers/rest.js';

afterEach(closeAll);

// The remote broker of the bridge test (Debian's mosquitto).
let mosquitto: Mosquitto | undefined;
beforeAll(async () => {
  mosquitto = await Mosquitto.start();
});
afterAll(async () => {
  await mosquitto?.stop();
});

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

/** What Prometheus 2.x/3.x sends with a scrape. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

async function scrape(authorization?: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const headers: Record<string, string> = { accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' };
  if (authorization) headers.authorization = authorization;
  const response = await fetch(`${httpBase()}/metrics`, { headers });
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
}

type Figures = Record<string, number>;

async function figures(): Promise<Figures> {
  const { status, text } = await scrape();
  expect(status).toBe(200);
  const result: Figures = {};
  for (const family of parsePrometheusTextFormat(text)) {
    if (/^mqtt_(source|bridge)_/.test(family.name)) continue; // one sample per source or bridge (see their tests)
    expect(family.metrics.length).toBe(1);
    result[family.name] = Number(family.metrics[0]!.value);
  }
  return result;
}

/** Scrapes until every named metric has its expected value (history rows are written behind), then compares them all. */
async function expectMetrics(expected: () => Figures): Promise<void> {
  let actual: Figures = {};
  for (let tries = 0; tries < 50; tries++) {
    const now = await figures();
    actual = Object.fromEntries(Object.keys(expected()).map((name) => [name, now[name]!]));
    if (Object.entries(expected()).every(([name, value]) => actual[name] === value)) break;
    await sleep(100);
  }
  expect(actual).toEqual(expected());
}

/** What a client put on and took off the wire since `watch`. */
function watch(client: MqttClient) {
  const socket = client.stream as unknown as Socket;
  const start = { written: socket.bytesWritten, read: socket.bytesRead };
  const wire = { packetsSent: 0, packetsReceived: 0 };
  client.on('packetsend', () => wire.packetsSent++);
  client.on('packetreceive', () => wire.packetsReceived++);
  return {
    get packetsSent() {
      return wire.packetsSent;
    },
    get packetsReceived() {
      return wire.packetsReceived;
    },
    get bytesSent() {
      return socket.bytesWritten - start.written;
    },
    get bytesReceived() {
      return socket.bytesRead - start.read;
    },
  };
}

describe('GET /metrics', () => {
  it('answers in the Prometheus text format with HELP and TYPE for every metric', async () => {
    const { status, contentType, text } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    expect(families.get('mqtt_messages_received_total')).toMatchObject({ type: 'COUNTER', help: 'MQTT packets of any type received from clients.' });
    expect(families.get('mqtt_clients_connected')).toMatchObject({ type: 'GAUGE', help: 'MQTT clients connected now.' });
    expect(families.get('mqtt_info')!.metrics[0]!.labels!.version).toMatch(/^harper-mqtt-bridge \d+\.\d+\.\d+ on HarperDB 4\.7\.29$/);
    expect(Number(families.get('mqtt_uptime_seconds')!.metrics[0]!.value)).toBeGreaterThan(0);
    expect(families.has('mqtt_history_rows')).toBe(true);
    expect(families.get('mqtt_history_pending_rows')).toMatchObject({ type: 'GAUGE' });
  });

  it('moves every figure by exactly the traffic of a publisher and a subscriber on two threads', async () => {
    const publisher = await connectOnThread(0);
    const subscriber = await connectOnThread(1);
    const prefix = unique('metrics');
    await subscribe(subscriber, `${prefix}/#`);
    await sleep(300); // probe connections of connectOnThread are closed and counted
    const before = await figures();
    expect(before.mqtt_clients_connected).toBeGreaterThanOrEqual(2);
    const wires = [watch(publisher), watch(subscriber)];
    const received: Buffer[] = [];
    subscriber.on('message', (_topic, payload) => received.push(payload));

    // Payloads of known sizes, QoS 1 (so each is accepted when its PUBACK arrives); the last one retained on a new prefix.
    await publish(publisher, `${prefix}/a`, Buffer.alloc(10, 0x61), { qos: 1 });
    await publish(publisher, `${prefix}/b`, Buffer.alloc(200, 0x62), { qos: 1 });
    await publish(publisher, `${prefix}/r`, Buffer.alloc(3000, 0x63), { qos: 1, retain: true });
    await waitFor(() => received.length === 3, 'the three messages at the subscriber');

    const sum = (key: keyof (typeof wires)[number]) => wires.reduce((total, wire) => total + wire[key], 0);
    await expectMetrics(() => ({
      mqtt_publish_received_total: before.mqtt_publish_received_total! + 3,
      mqtt_publish_bytes_received_total: before.mqtt_publish_bytes_received_total! + 3210,
      mqtt_publish_sent_total: before.mqtt_publish_sent_total! + 3,
      mqtt_publish_bytes_sent_total: before.mqtt_publish_bytes_sent_total! + 3210,
      mqtt_publish_dropped_total: before.mqtt_publish_dropped_total!,
      mqtt_messages_received_total: before.mqtt_messages_received_total! + sum('packetsSent'),
      mqtt_messages_sent_total: before.mqtt_messages_sent_total! + sum('packetsReceived'),
      mqtt_bytes_received_total: before.mqtt_bytes_received_total! + sum('bytesSent'),
      mqtt_bytes_sent_total: before.mqtt_bytes_sent_total! + sum('bytesReceived'),
      mqtt_clients_connected: before.mqtt_clients_connected!,
      mqtt_subscriptions: before.mqtt_subscriptions!,
      mqtt_retained_messages: before.mqtt_retained_messages! + 1,
      mqtt_topic_tables: before.mqtt_topic_tables! + 1,
      mqtt_topic_tables_created_total: before.mqtt_topic_tables_created_total! + 1,
      mqtt_history_rows: before.mqtt_history_rows! + 3,
      mqtt_history_pending_rows: 0, // written, none waiting
    }));
    expect(sum('packetsSent')).toBe(3); // three PUBLISH; the PUBACKs came back
    expect(sum('bytesReceived')).toBeGreaterThan(3210); // the deliveries did arrive

    await publisher.endAsync();
    await subscriber.endAsync();
    await expectMetrics(() => ({
      mqtt_clients_connected: before.mqtt_clients_connected! - 2,
      mqtt_subscriptions: before.mqtt_subscriptions! - 1,
      mqtt_messages_received_total: before.mqtt_messages_received_total! + sum('packetsSent'),
      mqtt_bytes_received_total: before.mqtt_bytes_received_total! + sum('bytesSent'),
    }));
  });

  it('shows the history rows waiting to be written during a flood, then none', async () => {
    const publisher = await connect({ clientId: unique('flood') });
    const topic = `${unique('history-flood')}/t`;
    await expectMetrics(() => ({ mqtt_history_pending_rows: 0 })); // earlier messages are written
    const before = await figures();
    const seen: number[] = [];
    let flooding = true;
    const scraping = (async () => {
      while (flooding) {
        seen.push((await figures()).mqtt_history_pending_rows!);
        await sleep(50);
      }
    })();
    // QoS 0, not awaited one by one: the thread is busy and the history waits behind the burst.
    for (let i = 0; i < 30_000; i++) publisher.publish(topic, Buffer.alloc(64, 0x61), { qos: 0 });
    await waitFor(() => Math.max(0, ...seen) > 0, 'a scrape that sees history rows waiting', 20_000);
    flooding = false;
    await scraping;
    // Then every row is written and none waits. (At least 30,000: a row of an earlier test can land in between.)
    const after = await waitFor(async () => {
      const now = await figures();
      return now.mqtt_history_pending_rows === 0 && now.mqtt_history_rows! >= before.mqtt_history_rows! + 30_000 && now;
    }, 'all 30,000 history rows written, none waiting', 20_000);
    expect(after.mqtt_history_rows! - before.mqtt_history_rows!).toBeLessThan(30_010);
  });

  it('is for super users: other users get 403, wrong credentials 401', async () => {
    const { ports, adminUser, adminPassword } = harper();
    const operation = async (body: object) => {
      const response = await fetch(`http://127.0.0.1:${ports.operations}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic(adminUser, adminPassword) },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.text()).toBe(200);
    };
    const name = unique('viewer').replace('-', '_');
    await operation({ operation: 'add_role', role: `${name}_role`, permission: { super_user: false } });
    await operation({ operation: 'add_user', role: `${name}_role`, username: name, password: 'pw', active: true });

    const admin = await scrape(basic(adminUser, adminPassword));
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('# TYPE mqtt_clients_connected gauge\n');
    const viewer = await scrape(basic(name, 'pw'));
    expect(viewer.status).toBe(403);
    expect(viewer.text).not.toContain('mqtt_');
    expect((await scrape(basic(name, 'wrong'))).status).toBe(401);
  });

  it('reports each source with its exact published count, labelled with its name', async () => {
    const table = unique('MetricRows').replace('-', '_');
    const name = `metrics.${table}`;
    await operation(harper(), { operation: 'create_table', database: 'data', table, primary_key: 'id' });
    expect(await request('POST', '/mqtt_sources/', { name, database: 'data', table, topic: `metrics-source/{id}`, qos: 0 })).toBe(200);
    const startedAt = Date.now();
    // The operations API thread may see the new table a moment after create_table answers.
    const insert = (ids: number[]) => operation(harper(), { operation: 'insert', database: 'data', table, records: ids.map((id) => ({ id, n: id })) });
    await waitFor(() => insert([1]).then(() => true, () => false), 'the first insert', 10_000);
    await insert([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let id = 11; id <= 25; id++) await insert([id]);

    const sample = (families: ReturnType<typeof parsePrometheusTextFormat>, metric: string) => {
      const family = families.find((f) => f.name === metric);
      return family && { type: family.type, values: family.metrics.filter((m) => m.labels?.source === name).map((m) => Number(m.value)) };
    };
    const families = await waitFor(async () => {
      const parsed = parsePrometheusTextFormat((await scrape()).text);
      const published = sample(parsed, 'mqtt_source_messages_published_total')?.values[0];
      return published === 25 && sample(parsed, 'mqtt_source_lag_seconds')?.values[0] === 0 ? parsed : false;
    }, 'the source to publish 25 messages and catch up', 15_000);
    expect(sample(families, 'mqtt_source_messages_published_total')).toEqual({ type: 'COUNTER', values: [25] });
    expect(sample(families, 'mqtt_source_changes_skipped_total')).toEqual({ type: 'COUNTER', values: [0] });
    expect(sample(families, 'mqtt_source_errors_total')).toEqual({ type: 'COUNTER', values: [0] });
    expect(sample(families, 'mqtt_source_up')).toEqual({ type: 'GAUGE', values: [1] });
    expect(sample(families, 'mqtt_source_lag_seconds')).toEqual({ type: 'GAUGE', values: [0] });
    const lastChange = sample(families, 'mqtt_source_last_change_timestamp_seconds')!.values[0]!;
    expect(lastChange * 1000).toBeGreaterThanOrEqual(startedAt);
    expect(lastChange * 1000).toBeLessThanOrEqual(Date.now());

    // A removed source leaves the output.
    expect(await request('DELETE', `/mqtt_sources/${name}`)).toBe(200);
    const after = await scrape();
    expect(after.text).not.toContain(`source="${name}"`);
  });

  it('reports each bridge with its exact acknowledged count, labelled with its name', async () => {
    const name = unique('metrics-bridge');
    const prefix = unique('bridged');
    const url = `mqtt://127.0.0.1:${mosquitto!.port}`;
    expect(await request('POST', '/mqtt_bridges/', { name, url, outbound: [{ filter: `${prefix}/#` }] })).toBe(201);
    const sample = (families: ReturnType<typeof parsePrometheusTextFormat>, metric: string) => {
      const family = families.find((f) => f.name === metric);
      return family && { type: family.type, values: family.metrics.filter((m) => m.labels?.bridge === name).map((m) => Number(m.value)) };
    };
    const parsed = async () => parsePrometheusTextFormat((await scrape()).text);
    await waitFor(async () => sample(await parsed(), 'mqtt_bridge_up')?.values[0] === 1, 'the bridge connected', 15_000);

    const publisher = await connect();
    for (let i = 0; i < 40; i++) await publish(publisher, `${prefix}/${i % 4}`, `m${i}`, { qos: 1 });
    const families = await waitFor(async () => {
      const now = await parsed();
      return sample(now, 'mqtt_bridge_messages_acknowledged_total')?.values[0] === 40 && sample(now, 'mqtt_bridge_pending_messages')?.values[0] === 0 ? now : false;
    }, 'the bridge to forward 40 messages', 15_000);
    const bridgeSamples = Object.fromEntries(families.filter((f) => f.name.startsWith('mqtt_bridge_')).map((f) => [f.name, sample(families, f.name)]));
    expect(bridgeSamples).toEqual({
      mqtt_bridge_up: { type: 'GAUGE', values: [1] },
      mqtt_bridge_messages_sent_total: { type: 'COUNTER', values: [40] },
      mqtt_bridge_messages_acknowledged_total: { type: 'COUNTER', values: [40] },
      mqtt_bridge_messages_received_total: { type: 'COUNTER', values: [0] },
      mqtt_bridge_pending_messages: { type: 'GAUGE', values: [0] },
      mqtt_bridge_pending_bytes: { type: 'GAUGE', values: [0] },
      mqtt_bridge_oldest_pending_age_seconds: { type: 'GAUGE', values: [0] },
      mqtt_bridge_retrying_messages: { type: 'GAUGE', values: [0] },
      mqtt_bridge_retries_total: { type: 'COUNTER', values: [0] },
      mqtt_bridge_dead_letters: { type: 'GAUGE', values: [0] },
    });

    // While the remote is away, the bridge is down and the new messages are its backlog.
    await mosquitto!.pause();
    await waitFor(async () => sample(await parsed(), 'mqtt_bridge_up')?.values[0] === 0, 'the bridge down', 15_000);
    for (let i = 0; i < 5; i++) await publish(publisher, `${prefix}/late`, 'abc', { qos: 1 });
    const backlog = await waitFor(async () => {
      const now = await parsed();
      return sample(now, 'mqtt_bridge_pending_messages')?.values[0] === 5 ? now : false;
    }, 'a backlog of 5', 10_000);
    expect(sample(backlog, 'mqtt_bridge_pending_bytes')!.values).toEqual([15]);
    expect(sample(backlog, 'mqtt_bridge_oldest_pending_age_seconds')!.values[0]).toBeGreaterThan(0);
    await mosquitto!.resume();
    await waitFor(async () => sample(await parsed(), 'mqtt_bridge_messages_acknowledged_total')?.values[0] === 45, 'the backlog delivered', 30_000);

    // A removed bridge leaves the output.
    expect(await request('DELETE', `/mqtt_bridges/${name}`)).toBe(200);
    await waitFor(async () => !(await scrape()).text.includes(`bridge="${name}"`), 'the bridge gone from the output');
  }, 90_000);
});
