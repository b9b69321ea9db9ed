// Another application's MQTT-exported table keeps HarperDB's native behaviour next to this component.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { get } from '../helpers/rest.js';

afterEach(closeAll);

describe("other apps' exported tables", () => {
  it('are still served natively: records, not topic tables', async () => {
    const id = unique('n');
    const client = await connect();
    await publish(client, `native/${id}`, '{ "name" : "rex" }', { qos: 1, retain: true });
    // HarperDB's native path stores the decoded record in the app's own table...
    expect((await get(`/native/${id}`)).json()).toEqual({ id, name: 'rex' });
    // ...and this component created no table for it.
    const prefixes = ((await get('/mqtt_topics/')).json() as Array<{ prefix: string }>).map((row) => row.prefix);
    expect(prefixes).not.toContain('native/');
  });

  it('share a connection with component topics, each message acknowledged correctly', async () => {
    const root = unique('mixed');
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, ['native/#', `${root}/#`], { qos: 1 });
    const publisher = await connect();
    for (let i = 0; i < 30; i++) {
      await publish(publisher, `native/${root}-${i}`, JSON.stringify({ i }), { qos: 1 });
      await publish(publisher, `${root}/t`, String(i), { qos: 1 });
    }
    // native/# also sends the records other tests stored in the native table; count this test's.
    const mine = () => received.filter((m) => m.topic.includes(root));
    await waitFor(() => mine().length === 60, '60 messages', 10_000);
    const ours = received.filter((m) => m.topic === `${root}/t`);
    expect(ours.map((m) => m.payload.toString())).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    // One packet-id space for both kinds: every QoS 1 delivery had its own id while in flight.
    expect(mine().every((m) => m.qos === 1 && typeof (m.packet as { messageId?: number }).messageId === 'number')).toBe(true);
    const natives = mine().filter((m) => m.topic.startsWith('native/'));
    expect(natives.map((m) => JSON.parse(m.payload.toString()).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });
});
