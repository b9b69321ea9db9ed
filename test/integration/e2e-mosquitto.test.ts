// Seed 000's three end-to-end checks, with the real mosquitto_sub / mosquitto_pub tools.
import { describe, expect, it } from 'vitest';
import { mosquittoPub, mosquittoSub, unique } from '../helpers/mqtt.js';

describe('mosquitto command-line tools', () => {
  it('subscribes to a brand-new topic tree and receives what is published (test 1)', async () => {
    const root = unique('e2e');
    const sub = mosquittoSub(['-t', `${root}/test/#`, '-v', '-C', '1', '-W', '10']);
    await sub.ready;
    expect((await mosquittoPub(['-t', `${root}/test/sensor`, '-m', '25'])).code).toBe(0);
    expect(await sub.done).toBe(`${root}/test/sensor 25\n`);
  });

  it('publishes to a brand-new topic, then a later subscriber gets it as retained (test 2)', async () => {
    const root = unique('e2e');
    expect((await mosquittoPub(['-t', `${root}/publish-first/temp`, '-m', '20', '-r'])).code).toBe(0);
    const sub = mosquittoSub(['-t', `${root}/publish-first/#`, '-v', '-C', '1', '-W', '10']);
    expect(await sub.done).toBe(`${root}/publish-first/temp 20\n`);
  });

  it('delivers single-level wildcard matches from several topics (test 3)', async () => {
    const root = unique('e2e');
    const sub = mosquittoSub(['-t', `${root}/wildcard/+/sensor`, '-v', '-C', '2', '-W', '10']);
    await sub.ready;
    await mosquittoPub(['-t', `${root}/wildcard/room1/sensor`, '-m', 'data1']);
    await mosquittoPub(['-t', `${root}/wildcard/room2/sensor`, '-m', 'data2']);
    await mosquittoPub(['-t', `${root}/wildcard/room3/other`, '-m', 'not-me']);
    const lines = (await sub.done).trim().split('\n').sort();
    expect(lines).toEqual([`${root}/wildcard/room1/sensor data1`, `${root}/wildcard/room2/sensor data2`]);
  });

  it('keeps a JSON payload byte for byte', async () => {
    const root = unique('e2e');
    const payload = '{ "a" : 1.50 }';
    const sub = mosquittoSub(['-t', `${root}/#`, '-C', '1', '-W', '10']);
    await sub.ready;
    await mosquittoPub(['-t', `${root}/json`, '-m', payload]);
    expect(await sub.done).toBe(payload + '\n');
  });
});
