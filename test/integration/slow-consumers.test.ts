// A subscriber that falls behind reads QoS 1/2 messages back from the message log while publishers
// on both worker threads go on: every acknowledged message must still arrive once, in each
// publisher's order.
import { afterEach, describe, expect, it } from 'vitest';
import { BenchClient } from '../../bench/client.js';
import { ownInstance } from '../helpers/instance.js';
import { unique, waitFor } from '../helpers/mqtt.js';

const clients: BenchClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe('a subscriber that falls behind a fan-in', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_MAX_QUEUED: '100' } });

  it('gets every QoS 1 message of four publishers exactly once, each publisher in order', async () => {
    const port = instance().info.ports.mqtt;
    const root = unique('fanin');
    const subscriber = await BenchClient.connect(port, unique('behind'));
    clients.push(subscriber);
    const received: Array<[number, number]> = [];
    subscriber.listen((_topic, payload) => received.push([payload.readUInt8(0), payload.readUInt32LE(1)]));
    await subscriber.subscribe(`${root}/#`, 1);
    const publishers = await Promise.all([0, 1, 2, 3].map((n) => BenchClient.connect(port, unique(`pub${n}`))));
    clients.push(...publishers);
    const perPublisher = 5000;
    await Promise.all(
      publishers.map(async (publisher, n) => {
        const inFlight: Array<Promise<void>> = [];
        for (let i = 0; i < perPublisher; i++) {
          const payload = Buffer.alloc(5);
          payload.writeUInt8(n, 0);
          payload.writeUInt32LE(i, 1);
          inFlight.push(publisher.publish(`${root}/t${i % 100}`, payload, 1));
          if (inFlight.length >= 64) await inFlight.shift();
        }
        await Promise.all(inFlight);
      }),
    );
    await waitFor(() => received.length >= 4 * perPublisher, 'every message', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${received.length} of ${4 * perPublisher} arrived (${missing(received, perPublisher)})`);
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toHaveLength(4 * perPublisher);
    for (let n = 0; n < 4; n++) {
      const sequence = received.filter(([from]) => from === n).map(([, i]) => i);
      expect(sequence).toEqual(Array.from({ length: perPublisher }, (_, i) => i));
    }
  }, 120_000);
});

/** Per publisher, how many of its messages are missing and the first of them. */
function missing(received: Array<[number, number]>, perPublisher: number): string {
  return [0, 1, 2, 3]
    .map((n) => {
      const got = new Set(received.filter(([from]) => from === n).map(([, i]) => i));
      const absent = Array.from({ length: perPublisher }, (_, i) => i).filter((i) => !got.has(i));
      return `publisher ${n}: ${absent.length} missing${absent.length ? `, first ${absent[0]}` : ''}`;
    })
    .join('; ');
}
