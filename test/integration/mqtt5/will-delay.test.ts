// MQTT 5 Will Delay Interval [MQTT-3.1.3-9]: the will waits min(delay, session expiry) and a
// reconnection before then cancels it.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, quietPeriod, record, sleep, subscribe, unique, waitFor } from '../../helpers/mqtt.js';
import { RawClient } from '../../helpers/raw.js';

afterEach(closeAll);

async function clientWithWill(clientId: string, topic: string, willDelayInterval: number, sessionExpiryInterval: number): Promise<RawClient> {
  const { client, connack } = await RawClient.open(5, {
    clientId,
    properties: { sessionExpiryInterval },
    will: { topic, payload: Buffer.from('gone'), qos: 1, retain: false, properties: { willDelayInterval } },
  });
  expect(connack.reasonCode).toBe(0);
  return client;
}

/** A client id no other test uses, and what a subscriber to its will topic receives. */
async function watchWill() {
  const id = unique('delay');
  const watcher = await connect({ protocolVersion: 5 });
  const received = record(watcher);
  await subscribe(watcher, `${id}/will`, { qos: 1 });
  return { id, received };
}

describe('will delay interval', () => {
  it('publishes the will after the delay, not at once', async () => {
    const { id, received } = await watchWill();
    const client = await clientWithWill(id, `${id}/will`, 2, 60);
    const lost = Date.now();
    client.close(); // no DISCONNECT
    await sleep(1200);
    expect(received).toEqual([]);
    await waitFor(() => received.length === 1, 'the delayed will', 5000);
    expect(Date.now() - lost).toBeGreaterThanOrEqual(1900);
    expect(received[0]!.payload.toString()).toBe('gone');
  });

  it('is not published when the client comes back before the delay', async () => {
    const { id, received } = await watchWill();
    const client = await clientWithWill(id, `${id}/will`, 2, 60);
    client.close();
    await sleep(300);
    await connect({ clientId: id, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 60 } });
    await sleep(2500);
    expect(received).toEqual([]);
  });

  it('is published at once when the session ends at the disconnection (expiry 0)', async () => {
    const { id, received } = await watchWill();
    const client = await clientWithWill(id, `${id}/will`, 30, 0);
    client.close();
    await waitFor(() => received.length === 1, 'the will', 3000);
    await quietPeriod();
    expect(received).toHaveLength(1);
  });
});
