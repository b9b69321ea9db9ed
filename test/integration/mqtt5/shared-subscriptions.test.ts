// $share/{group}/{filter}: each message to one member of the group, round robin across threads.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, connectOnThread, publish, quietPeriod, record, subscribe, unique, waitFor } from '../../helpers/mqtt.js';
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
