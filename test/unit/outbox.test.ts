import { parser as makeParser, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { BusMessage, QoS } from '../../src/messages.js';
import { Outbox, type Delivery, type Transport } from '../../src/session/outbox.js';

class FakeSocket implements Transport {
  packets: Packet[] = [];
  closed = false;
  full = false;
  private drainCallbacks: Array<() => void> = [];
  constructor(private readonly protocolVersion: 4 | 5) {}
  write(bytes: Buffer): boolean {
    const parser = makeParser({ protocolVersion: this.protocolVersion });
    parser.on('packet', (packet) => this.packets.push(packet));
    parser.parse(bytes);
    return !this.full;
  }
  pause(): void {}
  resume(): void {}
  onDrain(callback: () => void): void {
    this.drainCallbacks.push(callback);
  }
  drain(): void {
    this.full = false;
    for (const callback of this.drainCallbacks.splice(0)) callback();
  }
  close(): void {
    this.closed = true;
  }
}

function message(topic: string, payload: string | Buffer, qos: QoS = 0, extra: Partial<BusMessage> = {}): BusMessage {
  return { topic, payload: Buffer.from(payload), qos, retain: false, clientId: 'p', timestamp: Date.now(), ...extra };
}

function delivery(m: BusMessage, qos: QoS = m.qos, position = 1): Delivery {
  return { message: m, position, qos, retain: false };
}

describe('Outbox', () => {
  it('writes the exact topic and payload bytes', () => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 20, maxQueued: 100 });
    const bytes = Buffer.from([0, 1, 2, 255, 0x7b, 0x20]);
    outbox.push(delivery(message('/lead/ing', bytes)));
    outbox.push({ ...delivery(message('e', '')), retain: true });
    expect(socket.packets).toHaveLength(2);
    expect(socket.packets[0]).toMatchObject({ cmd: 'publish', topic: '/lead/ing', qos: 0, retain: false });
    expect(Buffer.compare((socket.packets[0] as { payload: Buffer }).payload, bytes)).toBe(0);
    expect(socket.packets[1]).toMatchObject({ topic: 'e', retain: true });
    expect((socket.packets[1] as { payload: Buffer }).payload.length).toBe(0);
  });

  it.each([1, 2] as const)('keeps at most maxInflight QoS %d messages unacknowledged', (qos) => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 2, maxQueued: 100 });
    for (let i = 0; i < 5; i++) outbox.push(delivery(message('t', String(i), qos)));
    expect(socket.packets.map((p) => (p as { payload: Buffer }).payload.toString())).toEqual(['0', '1']);
    const ids = socket.packets.map((p) => (p as { messageId: number }).messageId);
    expect(new Set(ids).size).toBe(2);
    expect(outbox.acknowledge(ids[0]!)?.message.payload.toString()).toBe('0');
    expect(socket.packets).toHaveLength(3);
    expect(outbox.unacknowledged().map((d) => d.message.payload.toString())).toEqual(['1', '2', '3', '4']);
    expect(outbox.acknowledge(ids[0]!)).toBeUndefined(); // duplicate ack is ignored
  });

  it('sends QoS 0 past a full window of QoS 1', () => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 1, maxQueued: 100 });
    outbox.push(delivery(message('t', 'a', 1)));
    outbox.push(delivery(message('t', 'b', 1)));
    // Order is kept: the QoS 0 message waits behind the queued QoS 1 one.
    outbox.push(delivery(message('t', 'c', 0)));
    expect(socket.packets).toHaveLength(1);
    outbox.acknowledge((socket.packets[0] as { messageId: number }).messageId);
    expect(socket.packets.map((p) => (p as { payload: Buffer }).payload.toString())).toEqual(['a', 'b', 'c']);
  });

  it('waits for the socket to drain', () => {
    const socket = new FakeSocket(4);
    socket.full = true;
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 20, maxQueued: 100 });
    outbox.push(delivery(message('t', '1')));
    outbox.push(delivery(message('t', '2')));
    expect(socket.packets).toHaveLength(1);
    expect(outbox.queued).toBe(1);
    socket.drain();
    expect(socket.packets).toHaveLength(2);
  });

  it('resends with DUP and the same packet id, and never reuses a reserved id', () => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 20, maxQueued: 100 });
    outbox.reserve([1]);
    outbox.push({ ...delivery(message('t', 'new', 1)) });
    outbox.push({ ...delivery(message('t', 'old', 2)), dup: true, messageId: 1 });
    expect(socket.packets[0]).toMatchObject({ messageId: 2, dup: false });
    expect(socket.packets[1]).toMatchObject({ messageId: 1, dup: true, qos: 2 });
  });

  it('forwards MQTT 5 properties and counts down the expiry interval', () => {
    const socket = new FakeSocket(5);
    const outbox = new Outbox(socket, { protocolVersion: 5, maxInflight: 20, maxQueued: 100 });
    const dropped: string[] = [];
    const old = Date.now() - 5_000;
    outbox.push(delivery(message('t', 'x', 0, { timestamp: old, properties: { messageExpiryInterval: 60, contentType: 'text/plain' } })));
    const expiring = new Outbox(socket, {
      protocolVersion: 5,
      maxInflight: 20,
      maxQueued: 100,
      onDropped: (_d, reason) => dropped.push(reason),
    });
    expiring.push(delivery(message('t', 'y', 0, { timestamp: old, properties: { messageExpiryInterval: 2 } })));
    expect(socket.packets).toHaveLength(1);
    const properties = (socket.packets[0] as { properties: Record<string, unknown> }).properties;
    expect(properties.contentType).toBe('text/plain');
    expect(properties.messageExpiryInterval).toBeGreaterThanOrEqual(54);
    expect(properties.messageExpiryInterval).toBeLessThanOrEqual(55);
    expect(dropped).toEqual(['expired']);
  });

  it('drops messages larger than the client maximum packet size', () => {
    const socket = new FakeSocket(5);
    const dropped: string[] = [];
    const outbox = new Outbox(socket, {
      protocolVersion: 5,
      maxInflight: 20,
      maxQueued: 100,
      maximumPacketSize: 64,
      onDropped: (_d, reason) => dropped.push(reason),
    });
    outbox.push(delivery(message('t', 'x'.repeat(100))));
    outbox.push(delivery(message('t', 'small')));
    expect(dropped).toEqual(['too-large']);
    expect(socket.packets).toHaveLength(1);
  });

  it('drops a message it cannot encode and goes on with the next', () => {
    const socket = new FakeSocket(5);
    const dropped: string[] = [];
    const outbox = new Outbox(socket, { protocolVersion: 5, maxInflight: 20, maxQueued: 100, onDropped: (_d, reason) => dropped.push(reason) });
    // mqtt-packet copies binary properties with Buffer#copy, which a plain Uint8Array lacks.
    const bad = { correlationData: new Uint8Array([1]) as Buffer };
    outbox.push(delivery(message('t', 'bad', 1, { properties: bad })));
    outbox.push(delivery(message('t', 'good', 1)));
    expect(dropped).toEqual(['unencodable']);
    expect(socket.packets.map((p) => (p as { payload: Buffer }).payload.toString())).toEqual(['good']);
    expect(outbox.inflightCount).toBe(1);
  });

  it('reports when the queue is full and releases waiters as it empties', async () => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 1, maxQueued: 4 });
    for (let i = 0; i < 5; i++) outbox.push(delivery(message('t', String(i), 1)));
    expect(outbox.isFull()).toBe(true);
    let released = false;
    const waiting = outbox.waitForSpace().then(() => (released = true));
    for (let i = 0; i < 3; i++) outbox.acknowledge((socket.packets[i] as { messageId: number }).messageId);
    await waiting;
    expect(released).toBe(true);
    expect(outbox.queued).toBe(1);
  });

  it('is full at maxQueuedBytes of queued payload, not counting messages in flight, and has room again at half', async () => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 1, maxQueued: 100, maxQueuedBytes: 3000 });
    const kilobyte = (i: number) => delivery(message('t', Buffer.alloc(1000, i), 1));
    outbox.push(kilobyte(0)); // sent: in flight, not queued
    outbox.push(kilobyte(1));
    outbox.push(kilobyte(2));
    expect([outbox.queued, outbox.isFull()]).toEqual([2, false]);
    outbox.push(kilobyte(3));
    expect([outbox.queued, outbox.isFull()]).toEqual([3, true]);
    let released = false;
    const waiting = outbox.waitForSpace().then(() => (released = true));
    outbox.acknowledge((socket.packets[0] as { messageId: number }).messageId); // 2,000 bytes queued: not yet half
    await Promise.resolve();
    expect([outbox.isFull(), released]).toEqual([false, false]);
    outbox.acknowledge((socket.packets[1] as { messageId: number }).messageId); // 1,000 bytes queued
    await waiting;
    expect(outbox.queued).toBe(1);
    expect(socket.packets.map((p) => (p as { payload: Buffer }).payload[0])).toEqual([0, 1, 2]);
  });

  it('keeps a QoS 2 message in flight from PUBREC until PUBCOMP, and sends it again as PUBREL', () => {
    const socket = new FakeSocket(4);
    const outbox = new Outbox(socket, { protocolVersion: 4, maxInflight: 1, maxQueued: 10 });
    outbox.push(delivery(message('t', 'a', 2)));
    outbox.push(delivery(message('t', 'b', 2)));
    const id = (socket.packets[0] as { messageId: number }).messageId;
    expect(outbox.released(id)).toBe(true);
    expect(outbox.released(id + 1000)).toBe(false);
    expect(socket.packets).toHaveLength(1); // still in flight: the window stays full
    const [pending] = outbox.unacknowledged();
    expect(pending).toMatchObject({ released: true, messageId: id });
    const again = new FakeSocket(4);
    const resumed = new Outbox(again, { protocolVersion: 4, maxInflight: 5, maxQueued: 10 });
    resumed.push(pending!);
    expect(again.packets).toEqual([expect.objectContaining({ cmd: 'pubrel', messageId: id })]);
    outbox.acknowledge(id);
    expect((socket.packets[1] as { payload: Buffer }).payload.toString()).toBe('b');
  });

  it('MQTT 5: sends the subscription identifiers of the subscriptions a message matched', () => {
    const socket = new FakeSocket(5);
    const outbox = new Outbox(socket, { protocolVersion: 5, maxInflight: 5, maxQueued: 10 });
    outbox.push({ ...delivery(message('t', 'one')), subscriptionIdentifiers: [7] });
    outbox.push({ ...delivery(message('t', 'two')), subscriptionIdentifiers: [7, 9] });
    expect(socket.packets.map((p) => (p as { properties?: { subscriptionIdentifier?: unknown } }).properties?.subscriptionIdentifier)).toEqual([7, [7, 9]]);
  });

  it('MQTT 5: uses the topic aliases the client offered, sending a known topic as its alias', () => {
    const socket = new FakeSocket(5);
    const outbox = new Outbox(socket, { protocolVersion: 5, maxInflight: 5, maxQueued: 10, topicAliasMaximum: 1 });
    for (const topic of ['a/b', 'a/b', 'c']) outbox.push(delivery(message(topic, 'x')));
    const sent = socket.packets as Array<{ topic: string; properties?: { topicAlias?: number } }>;
    expect(sent.map((p) => [p.topic, p.properties?.topicAlias])).toEqual([
      ['a/b', 1],
      ['', 1],
      ['c', undefined], // no alias left
    ]);
  });
});
