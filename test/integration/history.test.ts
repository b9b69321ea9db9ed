// The history keeps messages for `historyTtl`, and 0 turns it off.
import { afterEach, describe, expect, it } from 'vitest';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, publish, record, sleep, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

async function historyRows(http: number, topic: string): Promise<{ status: number; rows: unknown[] }> {
  const response = await fetch(`http://127.0.0.1:${http}/mqtt_history/?topic=${encodeURIComponent(topic)}`);
  const body = await response.text();
  return { status: response.status, rows: response.ok ? (JSON.parse(body) as unknown[]) : [] };
}

describe.each([
  ['expires rows after historyTtl', '3s'],
  ['is off with historyTtl 0', '0'],
])('history %s', (_name, ttl) => {
  const instance = ownInstance({ threads: 1, env: { MQTT_BRIDGE_HISTORY_TTL: ttl } });

  it('records messages accordingly, while delivery works either way', async () => {
    const { mqtt, http } = instance().info.ports;
    const topic = `${unique('ttl')}/t`;
    const subscriber = await connect({ port: mqtt });
    const received = record(subscriber);
    await subscribe(subscriber, topic);
    const publisher = await connect({ port: mqtt });
    await publish(publisher, topic, 'kept for a while', { qos: 1 });
    await waitFor(() => received.length === 1, 'delivery');
    if (ttl === '0') {
      expect((await historyRows(http, topic)).status).toBe(404); // no history table is served
      return;
    }
    await waitFor(async () => (await historyRows(http, topic)).rows.length === 1, 'the history row (written just behind the message)');
    await sleep(3000);
    const deadline = Date.now() + 10_000;
    while ((await historyRows(http, topic)).rows.length > 0) {
      if (Date.now() > deadline) throw new Error('history row did not expire');
      await sleep(250);
    }
  }, 30_000);
});
