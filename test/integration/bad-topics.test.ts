// Topics and filters MQTT forbids are refused the MQTT way, store nothing and create no table.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { generate } from 'mqtt-packet';
import { RawClient } from '../helpers/raw.js';
import { get } from '../helpers/rest.js';

afterEach(closeAll);

async function registeredPrefixes(): Promise<string[]> {
  return ((await get('/mqtt_topics/')).json() as Array<{ prefix: string }>).map((row) => row.prefix);
}

// MQTT.js checks filters itself, so these go out as raw packets. (A filter over 65535 bytes cannot be
// encoded in a SUBSCRIBE at all; the unit tests cover that check.)
const badFilters = (id: string) => [`${id}/#/x`, `${id}/a+/b`, `${id}/b#`, '', `#${id}`, `${id}/+x`];

/** A packet whose topic (or filter) has `raw` bytes where `placeholder` was: what no encoder writes. */
function withRawBytes(packet: Buffer, placeholder: string, raw: number[]): Buffer {
  const at = packet.indexOf(Buffer.from(placeholder));
  Buffer.from(raw).copy(packet, at);
  return packet;
}

describe('invalid subscriptions', () => {
  it.each([4, 5] as const)('are refused in SUBACK (MQTT %d) and create no table', async (protocolVersion) => {
    const id = unique('badsub');
    const client = await RawClient.connect(protocolVersion);
    const filters = badFilters(id);
    client.send({ cmd: 'subscribe', messageId: 7, subscriptions: [...filters, `${id}/fine/#`].map((topic) => ({ topic, qos: 1 })) });
    const suback = (await client.next('suback')) as { granted: number[] };
    const refused = protocolVersion === 5 ? 0x8f : 0x80;
    expect(suback.granted).toEqual([...filters.map(() => refused), 1]);
    // No subscription creates a table, valid or not: tables hold retained messages.
    expect((await registeredPrefixes()).filter((p) => p.includes(id))).toEqual([]);
    client.send({ cmd: 'publish', topic: `${id}/fine/x`, payload: Buffer.from('kept'), qos: 1, messageId: 8, retain: true, dup: false });
    await client.next('puback');
    expect((await registeredPrefixes()).filter((p) => p.includes(id))).toEqual([`${id}/fine/`]);
    client.close();
  });
});

describe('malformed UTF-8 [MQTT-1.5.4-1, MQTT-1.5.4-2]', () => {
  it.each([4, 5] as const)('closes an MQTT %d connection whose PUBLISH topic or SUBSCRIBE filter is not well-formed UTF-8, creating nothing', async (protocolVersion) => {
    const id = unique('utf');
    const cases = [
      withRawBytes(generate({ cmd: 'publish', topic: `${id}/XXX`, payload: Buffer.from('x'), qos: 1, messageId: 1, retain: true, dup: false } as never, { protocolVersion }), 'XXX', [0xc3, 0x28, 0xff]),
      withRawBytes(generate({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: `${id}/XXX/#`, qos: 1 }] } as never, { protocolVersion }), 'XXX', [0xed, 0xa0, 0x80]),
      withRawBytes(generate({ cmd: 'publish', topic: `${id}/X/y`, payload: Buffer.from('x'), qos: 0, retain: true, dup: false } as never, { protocolVersion }), 'X', [0x00]),
    ];
    for (const bytes of cases) {
      const client = await RawClient.connect(protocolVersion);
      client.sendRaw(bytes);
      await client.closed;
      await expect(client.next('puback', 50)).rejects.toThrow();
      await expect(client.next('suback', 50)).rejects.toThrow();
    }
    expect((await registeredPrefixes()).filter((p) => p.includes(id))).toEqual([]);
  });
});

describe('invalid publishes', () => {
  it('MQTT 5: PUBACK with reason 0x90, nothing stored or delivered', async () => {
    const id = unique('badpub');
    const watcher = await connect();
    const seen = record(watcher);
    await subscribe(watcher, '#');
    const client = await RawClient.connect(5);
    const send = (topic: string, qos: number, messageId: number) =>
      client.send({ cmd: 'publish', topic, payload: Buffer.from('nope'), qos, messageId, retain: true, dup: false });
    send(`${id}/+/x`, 1, 1);
    expect(((await client.next('puback')) as { reasonCode?: number }).reasonCode).toBe(0x90);
    send(`${id}/#`, 2, 2);
    expect(((await client.next('pubrec')) as { reasonCode?: number }).reasonCode).toBe(0x90);
    send(`$SYS/${id}`, 1, 3);
    expect(((await client.next('puback')) as { reasonCode?: number }).reasonCode).toBe(0x87); // not authorized
    send(`${id}/ok`, 1, 4);
    expect(((await client.next('puback')) as { reasonCode?: number }).reasonCode ?? 0).toBe(0);
    client.close();
    await quietPeriod();
    expect(seen.filter((m) => m.topic.includes(id)).map((m) => m.topic)).toEqual([`${id}/ok`]);
    expect((await registeredPrefixes()).filter((p) => p.includes(id))).toEqual([`${id}/`]);
  });

  it('MQTT 3.1.1: a wildcard in a PUBLISH topic closes the connection', async () => {
    const client = await RawClient.connect(4);
    client.send({ cmd: 'publish', topic: `${unique('bad')}/+`, payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await client.closed; // [MQTT-4.8.0-1]
  });

  it('a client cannot publish into $SYS: MQTT 3.1.1 connections are closed, nothing is stored', async () => {
    const id = unique('sys');
    const watcher = await connect();
    const seen = record(watcher);
    await subscribe(watcher, '$SYS/#');
    const client = await RawClient.connect(4);
    client.send({ cmd: 'publish', topic: `$SYS/broker/${id}`, payload: Buffer.from('fake'), qos: 1, messageId: 9, retain: true, dup: false });
    await client.closed; // no PUBACK claims it was kept
    await expect(client.next('puback', 100)).rejects.toThrow('no puback');
    await quietPeriod();
    expect(seen.filter((m) => m.topic.includes(id))).toEqual([]);
    expect((await get(`/$SYS/broker/${id}`)).status).toBe(404);
  });

  it('an empty non-retained payload is a valid message', async () => {
    const topic = `${unique('empty')}/x`;
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, topic);
    const publisher = await connect();
    await publish(publisher, topic, '', { qos: 1 });
    await waitFor(() => received.length === 1, 'the empty message');
    expect(received[0]!.payload.length).toBe(0);
  });
});
