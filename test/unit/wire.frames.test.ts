import { generate } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { FrameReader, isUtf8Strict, topicsWellFormed } from '../../src/wire/frames.js';

const publish = (topic: string | Buffer, payload = 'x') => {
  const bytes = Buffer.from(topic as never);
  const placeholder = 'T'.repeat(bytes.length);
  const packet = generate({ cmd: 'publish', topic: placeholder, payload: Buffer.from(payload), qos: 0, retain: false, dup: false } as never);
  // Put the raw topic bytes in place of the placeholder (same length), as a misbehaving client would.
  bytes.copy(packet, packet.indexOf(Buffer.from(placeholder)));
  return packet;
};

describe('FrameReader', () => {
  it('stops when its time is up, keeps the rest, and goes on with an empty chunk, in order', () => {
    const reader = new FrameReader(1024);
    const packets = [publish('a'), publish('b'), publish('c')];
    const seen: string[] = [];
    const onPacket = (p: Buffer) => seen.push(p.subarray(4, 5).toString());
    expect(reader.push(Buffer.concat([...packets, packets[0]!.subarray(0, 3)]), onPacket, () => true)).toBe('more');
    expect(seen).toEqual(['a']);
    expect(reader.push(Buffer.alloc(0), onPacket, () => true)).toBe('more');
    expect(reader.push(Buffer.alloc(0), onPacket, () => true)).toBe('more'); // 'c' done; the partial 'a' is not a whole packet
    expect(reader.push(packets[0]!.subarray(3), onPacket)).toBeNull();
    expect(seen).toEqual(['a', 'b', 'c', 'a']);
  });

  it('cuts a stream into packets, across chunk borders', () => {
    const packets = [publish('a/b', 'one'), publish('c', 'two'.repeat(100)), generate({ cmd: 'pingreq' } as never)];
    const stream = Buffer.concat(packets);
    for (const size of [1, 3, 7, 64, stream.length]) {
      const reader = new FrameReader(10_000);
      const got: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) expect(reader.push(stream.subarray(i, i + size), (p) => got.push(Buffer.from(p)))).toBeNull();
      expect(got).toEqual(packets);
    }
  });

  it('refuses a packet over the limit as soon as its header arrives', () => {
    const reader = new FrameReader(1000);
    const big = publish('a', 'x'.repeat(5000));
    expect(reader.push(big.subarray(0, 3), () => undefined)).toEqual({ kind: 'too-large', size: big.length });
  });

  it('refuses a Remaining Length of five bytes', () => {
    expect(new FrameReader(1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => undefined)).toEqual({ kind: 'malformed', reason: 'Remaining Length longer than 4 bytes' });
  });
});

describe('topicsWellFormed', () => {
  it('accepts UTF-8 topics, including U+FFFD written properly', () => {
    expect(topicsWellFormed(publish('a/ü/€/\uFFFD'), 4)).toBe(true);
  });

  it('refuses ill-formed UTF-8, encoded surrogates and U+0000 in a PUBLISH topic [MQTT-1.5.4-1, -2]', () => {
    expect(topicsWellFormed(publish(Buffer.from([0x61, 0x2f, 0xc3, 0x28, 0xff])), 4)).toBe(false);
    expect(topicsWellFormed(publish(Buffer.from([0x61, 0xed, 0xa0, 0x80])), 5)).toBe(false);
    expect(topicsWellFormed(publish(Buffer.from([0x61, 0x00, 0x62])), 4)).toBe(false);
  });

  it('checks every filter of a SUBSCRIBE and UNSUBSCRIBE, in MQTT 3.1.1 and 5', () => {
    for (const protocolVersion of [4, 5] as const) {
      const subscribe = (filters: string[]) => generate({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map((topic) => ({ topic, qos: 1 })), properties: protocolVersion === 5 ? { subscriptionIdentifier: 7 } : undefined } as never, { protocolVersion });
      const good = subscribe(['a/#', 'b/+/c']);
      expect(topicsWellFormed(good, protocolVersion)).toBe(true);
      const bad = subscribe(['a/#', 'b/XXX/c']);
      Buffer.from([0xed, 0xa0, 0x80]).copy(bad, bad.indexOf(Buffer.from('XXX')));
      expect(topicsWellFormed(bad, protocolVersion)).toBe(false);
      const unsubscribe = generate({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['a/#', 'zz'] } as never, { protocolVersion });
      Buffer.from([0xc3, 0x28]).copy(unsubscribe, unsubscribe.indexOf(Buffer.from('zz')));
      expect(topicsWellFormed(unsubscribe, protocolVersion)).toBe(false);
    }
  });

  it('isUtf8Strict', () => {
    expect(isUtf8Strict(Buffer.from('ok'))).toBe(true);
    expect(isUtf8Strict(Buffer.from([0xc0, 0xaf]))).toBe(false); // overlong
  });
});
