// $share/{group}/{filter}: each message to one member of the group, round robin across threads.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, connectOnThread, publish, quietPeriod, record, subscribe, threadOfProbe, unique, waitFor } from '../../helpers/mqtt.js';
import { RawClient } from '../../helpers/raw.js';

afterEach(closeAll);

const v5 = { protocolVersion: 5 as const };

describe('shared subscriptions', () => {
  it.each([0, 1, 2] as const)('QoS %i: every message reaches exactly one member, members on both threads take turns', async (qos) => {
    const prefix = unique('shared');
    const members = [await connectOnThread(0, v5), await connectOnThread(1, v5), await connectOnThread(0, v5)];
    const received = members.map(record);
    for (const member of members) await subscribe(member, `$share/workers/${prefix}/+`, { qos });
    const watcher = await connect(v5);
    const all = record(watcher);
    await subscribe(watcher, `${prefix}/#`, { qos });
    const publisher = await connect(v5);
    for (let i = 0; i < 30; i++) await publish(publisher, `${prefix}/job`, String(i), { qos });
    await waitFor(() => all.length === 30 && received.flat().length === 30, 'every message once', 10_000);
    await quietPeriod();
    const delivered = received.flat().map((m) => Number(m.payload.toString()));
    expect(delivered.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(received.map((r) => r.length)).toEqual([10, 10, 10]); // round robin over three members
    expect(received.flat().every((m) => m.topic === `${prefix}/job` && m.retain === false)).toBe(true);
  });

  it('two groups on one filter each get every message; a member that leaves gets no more', async () => {
    const prefix = unique('shared');
    const a1 = await connectOnThread(0, v5);
    const a2 = await connectOnThread(1, v5);
    const b = await connect(v5);
    const [ra1, ra2, rb] = [record(a1), record(a2), record(b)];
    await subscribe(a1, `$share/a/${prefix}/#`, { qos: 1 });
    await subscribe(a2, `$share/a/${prefix}/#`, { qos: 1 });
    await subscribe(b, `$share/b/${prefix}/#`, { qos: 1 });
    const publisher = await connect(v5);
    for (let i = 0; i < 4; i++) await publish(publisher, `${prefix}/x`, String(i), { qos: 1 });
    await waitFor(() => ra1.length + ra2.length === 4 && rb.length === 4, 'both groups');
    await a2.unsubscribeAsync(`$share/a/${prefix}/#`);
    await quietPeriod();
    const before = ra2.length;
    for (let i = 4; i < 8; i++) await publish(publisher, `${prefix}/x`, String(i), { qos: 1 });
    await waitFor(() => ra1.length + ra2.length === 8, 'group a after the leave');
    expect(ra2.length).toBe(before);
  });

  /** A group member that reads its messages and never acknowledges them, and the thread serving it. */
  async function silentMember(filter: string, qos: 1 | 2, fields: Record<string, unknown> = {}): Promise<{ raw: RawClient; thread: number }> {
    const { client: raw } = await RawClient.open(5, fields);
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
    await raw.next('suback');
    const probe = `${unique('thread-probe')}/p`;
    raw.send({ cmd: 'publish', topic: probe, payload: 'which thread', qos: 1, messageId: 2 });
    await raw.next('puback');
    return { raw, thread: await threadOfProbe(probe) };
  }

  /** The payloads of the next `count` PUBLISH packets a raw client receives. */
  async function take(raw: RawClient, count: number): Promise<number[]> {
    const payloads: number[] = [];
    for (let i = 0; i < count; i++) payloads.push(Number(((await raw.next('publish')) as { payload: Buffer }).payload.toString()));
    return payloads;
  }

  const numbers = (count: number) => Array.from({ length: count }, (_, i) => i);

  it.each([1, 2] as const)('QoS %i: a member whose session ends with messages unacknowledged hands them to a member on the other thread', async (qos) => {
    const prefix = unique('shared');
    const filter = `$share/g/${prefix}/#`;
    const silent = await silentMember(filter, qos);
    const other = await connectOnThread(1 - silent.thread, v5);
    const received = record(other);
    await subscribe(other, filter, { qos });
    const publisher = await connect(v5);
    for (let i = 0; i < 20; i++) await publish(publisher, `${prefix}/job`, String(i), { qos });
    const kept = await take(silent.raw, 10); // its turns, never acknowledged
    await waitFor(() => received.length === 10, 'the other member its turns');
    silent.raw.close(); // session expiry 0: the session ends with the connection
    await waitFor(() => received.length >= 20, "the silent member's ten, handed over");
    await quietPeriod();
    expect(received.map((m) => Number(m.payload.toString())).sort((a, b) => a - b)).toEqual(numbers(20)); // every message, once
    expect(received.filter((m) => kept.includes(Number(m.payload.toString())))).toHaveLength(10);
  });

  it('a persistent member keeps its share while away; messages handed to it are sent again when it comes back', async () => {
    const prefix = unique('shared');
    const filter = `$share/g/${prefix}/#`;
    const clientId = unique('keeper');
    const leaver = await silentMember(filter, 1);
    const keeper = await silentMember(filter, 1, { clientId, clean: false, properties: { sessionExpiryInterval: 300 } });
    const publisher = await connect(v5);
    for (let i = 0; i < 10; i++) await publish(publisher, `${prefix}/job`, String(i), { qos: 1 });
    const [left, own] = [await take(leaver.raw, 5), await take(keeper.raw, 5)];
    leaver.raw.close();
    const handed = await take(keeper.raw, 5);
    expect(handed.sort((a, b) => a - b)).toEqual(left.sort((a, b) => a - b));
    keeper.raw.close(); // away with ten unacknowledged: its session keeps them
    const back = await connect({ ...v5, clientId, clean: false, properties: { sessionExpiryInterval: 300 } });
    const again = record(back);
    await waitFor(() => again.length >= 10, 'the ten sent again');
    await quietPeriod();
    expect(again.map((m) => Number(m.payload.toString())).sort((a, b) => a - b)).toEqual([...own, ...handed].sort((a, b) => a - b));
    expect(again.every((m) => m.packet.dup)).toBe(true);
  });

  it('sends no retained messages to a new shared subscription', async () => {
    const topic = `${unique('shared')}/kept`;
    const publisher = await connect(v5);
    await publish(publisher, topic, 'retained', { qos: 1, retain: true });
    const member = await connect(v5);
    const received = record(member);
    await subscribe(member, `$share/g/${topic}`, { qos: 1 });
    await quietPeriod();
    expect(received).toEqual([]);
  });

  it.each([
    ['$share/g+/t', 'a wildcard in the share name'],
    ['$share//t', 'an empty share name'],
    ['$share/g', 'no filter'],
  ])('refuses %s (%s) with 0x8F', async (filter) => {
    const raw = await RawClient.connect(5);
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] });
    const suback = (await raw.next('suback')) as { granted: number[] };
    expect(suback.granted).toEqual([0x8f]);
    raw.close();
  });
});
