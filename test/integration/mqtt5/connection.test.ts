// CONNECT and CONNACK: the properties the broker advertises, assigned client ids, a second CONNECT,
// oversized packets, session expiry changed at DISCONNECT, and takeover with 0x8E.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../../helpers/mqtt.js';
import { RawClient } from '../../helpers/raw.js';

afterEach(closeAll);

describe('CONNACK', () => {
  it('MQTT 5: advertises what the broker supports and assigns a client id to an empty one', async () => {
    const { client, connack } = await RawClient.open(5, { clientId: '' });
    expect(connack.reasonCode).toBe(0);
    const p = connack.properties ?? {};
    expect(typeof p.assignedClientIdentifier).toBe('string');
    expect((p.assignedClientIdentifier as string).length).toBeGreaterThan(0);
    expect(p).toMatchObject({ receiveMaximum: 100, topicAliasMaximum: 10, maximumPacketSize: 1048576, retainAvailable: true });
    for (const flag of ['wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable']) {
      expect(p[flag] === undefined || p[flag] === true, flag).toBe(true); // absent means available
    }
    client.close();
  });

  it('MQTT 3.1.1: a CONNACK without properties; an empty id with clean session 0 is refused with 2', async () => {
    const ok = await RawClient.open(4);
    expect(ok.connack.returnCode).toBe(0);
    expect(ok.connack.properties).toBeUndefined();
    // CONNECT, MQTT 3.1.1, clean session 0, keep alive 30, empty client id (no encoder writes this).
    const refused = await RawClient.bare(4);
    refused.sendRaw(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 30, 0, 0]));
    expect(((await refused.next('connack')) as { returnCode: number }).returnCode).toBe(2); // identifier rejected
    await refused.closed;
    ok.client.close();
  });

  it('a wrong password is refused with 4 in MQTT 3.1.1 and 0x86 in MQTT 5', async () => {
    const v3 = await RawClient.open(4, { username: 'admin', password: Buffer.from('not the password') });
    expect(v3.connack.returnCode).toBe(4);
    const v5 = await RawClient.open(5, { username: 'admin', password: Buffer.from('not the password') });
    expect(v5.connack.reasonCode).toBe(0x86);
    await Promise.all([v3.client.closed, v5.client.closed]);
  });

  it.each([4, 5] as const)('MQTT %i: a second CONNECT on one connection closes it [MQTT-3.1.0-2]', async (version) => {
    const { client } = await RawClient.open(version);
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, clientId: unique('again'), keepalive: 30 });
    await client.closed;
    await expect(client.next('connack', 100)).rejects.toThrow(/no connack/);
  });
});

describe('limits and session end', () => {
  it('a PUBLISH over the maximum packet size gets DISCONNECT 0x95 and is not delivered', async () => {
    const topic = `${unique('big')}/t`;
    const watcher = await connect({ protocolVersion: 5 });
    const received = record(watcher);
    await subscribe(watcher, topic);
    const { client } = await RawClient.open(5);
    client.send({ cmd: 'publish', topic, payload: Buffer.alloc(1048576 + 10), qos: 0 });
    const disconnect = (await client.next('disconnect')) as { reasonCode: number };
    expect(disconnect.reasonCode).toBe(0x95);
    await client.closed;
    expect(received).toEqual([]);
  });

  it('a session expiry changed at DISCONNECT: longer keeps the session, 0 ends it [MQTT-3.14.2.2.2]', async () => {
    const [longer, ended] = [unique('expiry'), unique('expiry')];
    for (const [id, atDisconnect] of [[longer, 600], [ended, 0]] as const) {
      const client = await connect({ clientId: id, protocolVersion: 5, properties: { sessionExpiryInterval: 30 } });
      await subscribe(client, `${id}/#`, { qos: 1 });
      await client.endAsync(false, { reasonCode: 0, properties: { sessionExpiryInterval: atDisconnect } });
    }
    const publisher = await connect();
    await publish(publisher, `${longer}/x`, 'while away', { qos: 1 });
    const back = await connect({ clientId: longer, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 60 } });
    const received = record(back);
    await waitFor(() => received.length === 1, 'the message kept for the session');
    expect(received[0]!.payload.toString()).toBe('while away');
    const gone = await RawClient.open(5, { clientId: ended, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(gone.connack.sessionPresent).toBe(false);
    gone.client.close();
  });

  it('a non-zero session expiry at DISCONNECT after 0 at CONNECT is a protocol error [MQTT-3.14.2-2]', async () => {
    const { client } = await RawClient.open(5, { properties: { sessionExpiryInterval: 0 } });
    client.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    const disconnect = (await client.next('disconnect')) as { reasonCode: number };
    expect(disconnect.reasonCode).toBe(0x82);
    await client.closed;
  });

  it('a second connection with the client id sends the first DISCONNECT 0x8E', async () => {
    const id = unique('takeover');
    const { client: first } = await RawClient.open(5, { clientId: id });
    await RawClient.open(5, { clientId: id });
    const disconnect = (await first.next('disconnect')) as { reasonCode: number };
    expect(disconnect.reasonCode).toBe(0x8e);
  });
});
