import { describe, expect, it } from 'vitest';
import { bridgeSlot, publish, publishBatch, type BridgePublisher } from '../../src/sources/publishClient.js';
import { payloadBytes, toInbound } from '../../src/sources/publishApi.js';

describe('the publish client another component imports', () => {
  it('waits for the bridge of its thread, then hands calls to it', async () => {
    const calls: unknown[][] = [];
    const pending = publish('a/b', { x: 1 }, { qos: 1 });
    const fake: BridgePublisher = {
      publish: async (...args) => void calls.push(['publish', ...args]),
      publishBatch: async (...args) => void calls.push(['publishBatch', ...args]),
    };
    bridgeSlot().provide(fake);
    await pending;
    await publishBatch('p', ['one', { topic: 't', payload: 2 }]);
    expect(calls).toEqual([
      ['publish', 'a/b', { x: 1 }, { qos: 1 }],
      ['publishBatch', 'p', ['one', { topic: 't', payload: 2 }], undefined],
    ]);
  });
});

describe('messages of the publish API', () => {
  it('sends bytes as they are, text as UTF-8, anything else as JSON', () => {
    expect(payloadBytes(Buffer.from([0, 255]))).toEqual(Buffer.from([0, 255]));
    expect(payloadBytes(new Uint8Array([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(payloadBytes('héllo').toString()).toBe('héllo');
    expect(payloadBytes({ a: [1, 'x'] }).toString()).toBe('{"a":[1,"x"]}');
    expect(payloadBytes(42).toString()).toBe('42');
    expect(payloadBytes(null).toString()).toBe('null');
  });

  it('takes MQTT 5 properties, user properties as a mapping or as pairs', () => {
    const inbound = toInbound('t', 'x', { qos: 2, retain: true, properties: { contentType: 'text/plain', correlationData: 'c1', userProperties: [['a', '1'], ['a', '2'], ['b', '3']] } }, 'me');
    expect(inbound).toEqual({
      topic: 't',
      payload: Buffer.from('x'),
      qos: 2,
      retain: true,
      clientId: 'me',
      properties: { contentType: 'text/plain', correlationData: Buffer.from('c1'), userProperties: [['a', '1'], ['a', '2'], ['b', '3']] },
    });
    expect(toInbound('t', 'x', { properties: { userProperties: { by: 'job' } } }, '').properties).toEqual({ userProperties: [['by', 'job']] });
    expect(() => toInbound('t', 'x', { qos: 3 as 0 }, '')).toThrow('qos must be 0, 1 or 2, got 3');
  });
});
