// Access rules of config.yaml: deny rules for everyone, %u/%c allow rules for other users.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { ownInstance } from '../helpers/instance.js';
import { RawClient } from '../helpers/raw.js';

afterEach(closeAll);

const rules = ['deny read test/nosubscribe', 'deny write locked/#', 'allow readwrite users/%u/#', 'allow read clients/%c/+'];
const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_ACCESS_RULES: JSON.stringify(rules) } });
const port = () => instance().info.ports.mqtt;

async function operation(body: object): Promise<void> {
  const { ports, adminUser, adminPassword } = instance().info;
  const response = await fetch(`http://127.0.0.1:${ports.operations}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64') },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${JSON.stringify(body)}: ${response.status} ${await response.text()}`);
}

describe('access rules', () => {
  it.each([4, 5] as const)('MQTT %i: a deny read rule refuses the subscription, also for the super user', async (version) => {
    const { client } = await RawClient.open(version, {}, port());
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'test/nosubscribe', qos: 1 }] });
    const suback = (await client.next('suback')) as { granted: number[] };
    expect(suback.granted).toEqual([version === 5 ? 0x87 : 0x80]);
    client.close();
  });

  it('a wide subscription does not receive denied topics, live or retained', async () => {
    const prefix = unique('wide');
    const publisher = await connect({ port: port() });
    await publish(publisher, 'test/nosubscribe', 'hidden retained', { qos: 1, retain: true });
    const watcher = await connect({ port: port() });
    const received = record(watcher);
    await subscribe(watcher, ['test/#', `${prefix}/#`], { qos: 1 });
    await publish(publisher, 'test/nosubscribe', 'hidden', { qos: 1 });
    await publish(publisher, `${prefix}/open`, 'shown', { qos: 1 });
    await waitFor(() => received.some((m) => m.topic === `${prefix}/open`), 'the allowed message');
    await quietPeriod();
    expect(received.filter((m) => m.topic === 'test/nosubscribe')).toEqual([]);
  });

  it('a deny write rule refuses a publish with 0x87 in MQTT 5 and closes an MQTT 3.1.1 connection', async () => {
    const { client: v5 } = await RawClient.open(5, {}, port());
    v5.send({ cmd: 'publish', topic: 'locked/a', payload: 'x', qos: 1, messageId: 1 });
    expect(((await v5.next('puback')) as { reasonCode: number }).reasonCode).toBe(0x87);
    v5.close();
    const { client: v3 } = await RawClient.open(4, {}, port());
    v3.send({ cmd: 'publish', topic: 'locked/a', payload: 'x', qos: 1, messageId: 1 });
    await v3.closed;
  });

  it('allow rules with %u and %c give a user without table permissions its own topics and nothing else', async () => {
    const name = unique('alice').replace('-', '_');
    await operation({ operation: 'add_role', role: `${name}_role`, permission: { super_user: false } });
    await operation({ operation: 'add_user', role: `${name}_role`, username: name, password: 'pw-' + name, active: true });
    const alice = await connect({ port: port(), username: name, password: 'pw-' + name, clientId: `${name}-phone`, protocolVersion: 5 });
    const received = record(alice);
    await subscribe(alice, [`users/${name}/#`, `clients/${name}-phone/+`, 'users/bob/#'], { qos: 1 });
    const admin = await connect({ port: port() });
    await publish(admin, `users/${name}/a`, 'mine', { qos: 1 });
    await publish(admin, `clients/${name}-phone/inbox`, 'for the phone', { qos: 1 });
    await publish(admin, 'users/bob/a', 'not mine', { qos: 1 });
    await waitFor(() => received.length === 2, 'the two allowed messages');
    await quietPeriod();
    expect(received.map((m) => m.payload.toString()).sort()).toEqual(['for the phone', 'mine']);
    await expect(publish(alice, `users/${name}/b`, 'ok', { qos: 1 })).resolves.toBeDefined();
    const refused = await publish(alice, 'users/bob/b', 'no', { qos: 1 }).then(
      (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode,
      (error: { code?: number }) => error.code,
    );
    expect(refused).toBe(0x87);
  });
});
