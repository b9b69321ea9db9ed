import { describe, expect, it } from 'vitest';
import { forwardedProperties, messageFromRow, messageRow, propertiesForDelivery, readBusMessage, readProperties, type BusMessage } from '../../src/messages.js';

/** Mimics a record HarperDB decodes: fields behind prototype getters, binary as a plain Uint8Array. */
function decodedRecord(fields: Record<string, unknown>): object {
  const prototype = {};
  for (const [name, value] of Object.entries(fields)) Object.defineProperty(prototype, name, { get: () => value });
  return Object.create(prototype) as object;
}

const packetProperties = {
  contentType: 'application/json',
  userProperties: { source: 'test', n: ['1', '2'] },
  responseTopic: 'reply/here',
  correlationData: Buffer.from('corr'),
  payloadFormatIndicator: true,
  messageExpiryInterval: 3600,
  topicAlias: 3,
  subscriptionIdentifier: 9,
};

describe('PUBLISH properties', () => {
  it('keeps what a broker forwards, user properties as ordered pairs', () => {
    expect(forwardedProperties(packetProperties)).toEqual({
      contentType: 'application/json',
      userProperties: [
        ['source', 'test'],
        ['n', '1'],
        ['n', '2'],
      ],
      responseTopic: 'reply/here',
      correlationData: Buffer.from('corr'),
      payloadFormatIndicator: true,
      messageExpiryInterval: 3600,
    });
    expect(forwardedProperties({ topicAlias: 1 })).toBeUndefined();
    expect(forwardedProperties(undefined)).toBeUndefined();
  });

  it('gives mqtt-packet back the user properties it parsed, repeated names as arrays', () => {
    const message: BusMessage = {
      topic: 't',
      payload: Buffer.alloc(0),
      qos: 1,
      retain: false,
      clientId: 'c',
      timestamp: Date.now(),
      properties: forwardedProperties(packetProperties)!,
    };
    const { topicAlias: _alias, subscriptionIdentifier: _id, ...forwarded } = packetProperties;
    expect(propertiesForDelivery(message, message.timestamp)).toEqual(forwarded);
  });

  it('sends any user property name as a name, __proto__ included', () => {
    const message: BusMessage = { topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, clientId: 'c', timestamp: 0, properties: { userProperties: [['__proto__', 'x']] } };
    const user = propertiesForDelivery(message, 0)!.userProperties as Record<string, string>;
    expect(Object.getOwnPropertyNames(user)).toEqual(['__proto__']);
    expect(user['__proto__']).toBe('x');
  });

  it('reads stored properties from a decoded record: getters, Uint8Array bytes', () => {
    const stored = decodedRecord({
      contentType: 'text/plain',
      correlationData: new Uint8Array([1, 2, 3]),
      userProperties: [['a', 'b']],
    });
    const properties = readProperties(stored)!;
    expect(Buffer.isBuffer(properties.correlationData)).toBe(true);
    expect([...properties.correlationData!]).toEqual([1, 2, 3]);
    expect(properties).toMatchObject({ contentType: 'text/plain', userProperties: [['a', 'b']] });
    expect(readProperties(decodedRecord({}))).toBeUndefined();
    expect(readProperties(null)).toBeUndefined();
  });

  it('rebuilds bus messages and retained rows with Buffers and their properties', () => {
    const original: BusMessage = {
      topic: 'a/b',
      payload: Buffer.from([0, 255]),
      qos: 2,
      retain: true,
      clientId: 'c',
      timestamp: 1234,
      properties: { correlationData: Buffer.from('x'), userProperties: [['k', 'v']] },
    };
    const decoded = decodedRecord({ ...original, payload: new Uint8Array([0, 255]), properties: decodedRecord({ correlationData: new Uint8Array([120]), userProperties: [['k', 'v']] }) });
    const fromBus = readBusMessage(decoded as BusMessage);
    expect(fromBus).toEqual(original);
    expect(Buffer.isBuffer(fromBus.payload)).toBe(true);
    const row = messageRow(original);
    const fromRow = messageFromRow(decodedRecord({ ...row, data: new Uint8Array([0, 255]), properties: decodedRecord({ ...original.properties }) }) as never);
    expect(fromRow).toEqual(original);
  });
});
