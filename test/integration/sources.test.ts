// Sources: changes of HarperDB tables published as MQTT messages, configured not coded, exactly
// once across restarts and kill -9; and the publish API for code inside HarperDB and for scripts.
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, quietPeriod, record, subscribe, unique, waitFor, type Received } from '../helpers/mqtt.js';
import { operation } from '../helpers/operations.js';

afterEach(closeAll);

const SOURCES = [
  { name: 'TableA', table: 'TableA', topic: 'data/{table}/{MonitorId}', qos: 1 },
  { name: 'hot', table: 'TableA', topic: 'alerts/{MonitorId}', operations: ['insert', 'update'], filter: { field: 'Value', gt: 40 }, fields: { MonitorId: 'monitor', Value: 'value' } },
  { name: 'orders-batch', table: 'Orders', mode: 'batch', topic: 'erp/{table}/batch', fields: { id: 'id', status: 'state' }, qos: 1 },
  { name: 'late', table: 'LateTable', topic: 'late/{id}/{op}', qos: 1 },
  { name: 'bad-template', table: 'TableB', topic: 'x/{nope' },
  { name: 'bad-qos', table: 'TableC', topic: 'c/{id}', qos: 3 },
  { name: 'bad-field', table: 'TableA', topic: 'data/{NoSuchField}' },
];

const text = (m: Received) => m.payload.toString();
const props = (m: Received) => (m.packet.properties?.userProperties ?? {}) as Record<string, string>;

describe('sources', () => {
  const instance = ownInstance({ threads: 2, apps: ['test/fixtures/sources-app'], env: { MQTT_BRIDGE_SOURCES: JSON.stringify(SOURCES) } });
  const info = () => instance().info;
  const op = (body: object) => operation(info(), body);
  const http = () => `http://127.0.0.1:${info().ports.http}`;
  const json = async (path: string, init?: RequestInit) => {
    const response = await fetch(http() + path, init);
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };
  const post = (path: string, body: unknown) => json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const watch = async (filter: string | string[]): Promise<{ client: MqttClient; received: Received[] }> => {
    const client = await connect({ port: info().ports.mqtt, protocolVersion: 5 });
    const received = record(client);
    await subscribe(client, filter, { qos: 1 });
    return { client, received };
  };

  it('publishes each insert, update and delete of a row at its template topic, with the whole row', async () => {
    const monitor = unique('M');
    const { received } = await watch(`data/TableA/${monitor}`);
    await op({ operation: 'insert', database: 'data', table: 'TableA', records: [{ id: `${monitor}-1`, MonitorId: monitor, Value: 12.5, Status: 'ok' }] });
    await op({ operation: 'update', database: 'data', table: 'TableA', records: [{ id: `${monitor}-1`, MonitorId: monitor, Value: 13, Status: 'ok' }] });
    await op({ operation: 'delete', database: 'data', table: 'TableA', ids: [`${monitor}-1`] });
    await waitFor(() => received.length === 3, 'three messages');
    expect(received.map((m) => [m.topic, JSON.parse(text(m)), props(m).op, props(m).table])).toEqual([
      [`data/TableA/${monitor}`, { id: `${monitor}-1`, MonitorId: monitor, Value: 12.5, Status: 'ok' }, 'insert', 'TableA'],
      [`data/TableA/${monitor}`, { id: `${monitor}-1`, MonitorId: monitor, Value: 13, Status: 'ok' }, 'update', 'TableA'],
      [`data/TableA/${monitor}`, { id: `${monitor}-1`, MonitorId: monitor, Value: 13, Status: 'ok' }, 'delete', 'TableA'],
    ]);
    expect(received.map((m) => m.qos)).toEqual([1, 1, 1]);
  });
});
