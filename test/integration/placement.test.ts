// Topic tables spread over several databases once one holds `tablesPerDatabase` of them
// (LMDB allows 10,000 named stores per database file).
import { afterEach, describe, expect, it } from 'vitest';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

describe('tables over several databases', () => {
  const instance = ownInstance({ threads: 1, env: { MQTT_BRIDGE_TABLES_PER_DATABASE: '2', MQTT_BRIDGE_HISTORY_TTL: '0' } });

  it('puts new tables in data_topics_2, _3, ... and serves them all the same', async () => {
    const { mqtt, http } = instance().info.ports;
    const root = unique('spread');
    const topics = Array.from({ length: 5 }, (_, i) => `${root}/d${i}/telemetry`);
    const subscriber = await connect({ port: mqtt });
    const received = record(subscriber);
    await subscribe(subscriber, `${root}/#`);
    const publisher = await connect({ port: mqtt });
    for (const topic of topics) await publish(publisher, topic, topic, { qos: 1, retain: true });
    await waitFor(() => received.length === 5, 'five messages');

    const rows = (await (await fetch(`http://127.0.0.1:${http}/mqtt_topics/`)).json()) as Array<{ id: string; database: string; prefix: string }>;
    const mine = rows.filter((row) => row.prefix.startsWith(root));
    const counts = mine.reduce<Record<string, number>>((all, row) => ({ ...all, [row.database]: (all[row.database] ?? 0) + 1 }), {});
    // Five tables, one per device (the subscription creates none).
    expect(counts).toEqual({ data: 2, data_topics_2: 2, data_topics_3: 1 });
    for (const row of mine) {
      const body = await (await fetch(`http://127.0.0.1:${http}/${row.id}/telemetry`)).text();
      expect(body).toBe(row.prefix + 'telemetry');
    }
    const late = await connect({ port: mqtt });
    const retained = record(late);
    await subscribe(late, `${root}/#`);
    await waitFor(() => retained.length === 5, 'five retained messages from three databases');
  });
});
