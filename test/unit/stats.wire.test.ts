import { generate, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { FrameCounter, isPublish, publishPayloadBytes } from '../../src/stats/wire.js';

const packets = (version: 4 | 5): Packet[] => [
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clean: true, clientId: 'c', keepalive: 30 } as Packet,
  { cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 1), qos: 1, messageId: 7, retain: false, dup: false } as Packet,
  { cmd: 'pingreq' } as Packet,
  { cmd: 'publish', topic: 'x', payload: Buffer.alloc(0), qos: 0, retain: true, dup: false } as Packet,
  { cmd: 'publish', topic: 'big', payload: Buffer.alloc(20_000, 2), qos: 2, messageId: 9, retain: false, dup: false } as Packet,
  { cmd: 'disconnect' } as Packet,
];

const stream = (version: 4 | 5) => Buffer.concat(packets(version).map((p) => generate(p, { protocolVersion: version })));

describe('FrameCounter', () => {
  it.each([1, 2, 3, 7, 128, 100_000])('counts every packet however the stream is cut (chunks of %i bytes)', (size) => {
    const bytes = stream(4);
    const counter = new FrameCounter();
    let counted = 0;
    for (let i = 0; i < bytes.length; i += size) counted += counter.push(bytes.subarray(i, i + size));
    expect(counted).toBe(6);
    expect(counter.boundary).toBe(true);
  });

  it('is not at a boundary in the middle of a packet', () => {
    const bytes = generate({ cmd: 'publish', topic: 't', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false } as Packet);
    const counter = new FrameCounter();
    expect(counter.push(bytes.subarray(0, 4))).toBe(0);
    expect(counter.boundary).toBe(false);
    expect(counter.push(bytes.subarray(4))).toBe(1);
    expect(counter.boundary).toBe(true);
  });
});

describe('publishPayloadBytes', () => {
  it.each([4, 5] as const)('finds the payload length of MQTT %i PUBLISH packets of every QoS', (version) => {
    for (const packet of packets(version).filter((p) => p.cmd === 'publish')) {
      const bytes = generate(packet, { protocolVersion: version });
      expect(isPublish(bytes)).toBe(true);
      expect(publishPayloadBytes(bytes, version)).toBe((packet as { payload: Buffer }).payload.length);
    }
  });

  it('skips MQTT 5 properties', () => {
    const packet = {
      cmd: 'publish',
      topic: 'with/properties',
      payload: Buffer.from('{"a":1}'),
      qos: 1,
      messageId: 3,
      retain: false,
      dup: false,
      properties: { contentType: 'application/json', userProperties: { k: 'v' }, messageExpiryInterval: 60 },
    } as Packet;
    expect(publishPayloadBytes(generate(packet, { protocolVersion: 5 }), 5)).toBe(7);
  });

  it('tells other packets apart', () => {
    expect(isPublish(generate({ cmd: 'pingresp' } as Packet))).toBe(false);
  });
});
