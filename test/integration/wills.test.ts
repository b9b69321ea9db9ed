// Last will: published when a client vanishes, not when it says goodbye.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

describe('last will', () => {
  it.each([4, 5] as const)('is published when an MQTT %d connection drops', async (protocolVersion) => {
    const topic = `${unique('will')}/status`;
    const watcher = await connect();
    const received = record(watcher);
    await subscribe(watcher, topic, { qos: 1 });
    const client = await connect({ protocolVersion, will: { topic, payload: Buffer.from('offline'), qos: 1, retain: true } });
    (client as unknown as { stream: { destroy(): void } }).stream.destroy(); // no DISCONNECT
    await waitFor(() => received.length === 1, 'the will');
    expect(received[0]!.payload.toString()).toBe('offline');
    const later = await connect();
    const retained = record(later);
    await subscribe(later, topic);
    await waitFor(() => retained.length === 1, 'the retained will');
    expect(retained[0]!.retain).toBe(true);
  });

  it('is discarded on a normal DISCONNECT', async () => {
    const topic = `${unique('will')}/status`;
    const watcher = await connect();
    const received = record(watcher);
    await subscribe(watcher, topic);
    const client = await connect({ will: { topic, payload: Buffer.from('offline'), qos: 0, retain: false } });
    await client.endAsync();
    await quietPeriod();
    expect(received).toEqual([]);
  });
});
