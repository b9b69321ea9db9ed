// The connection stops reading once it has decided to close: the bytes behind a violation in the
// same stream are not parsed as packets. (A 1 MiB over-size PUBLISH of zeros is half a million
// 2-byte "packets" to a reader that goes on; each one a violation, the thread blocked for seconds.)
import { EventEmitter } from 'node:events';
import { generate } from 'mqtt-packet';
import { describe, expect, it, vi } from 'vitest';
import { Counters } from '../../src/stats/counters.js';
import { Connection, type SessionHandler } from '../../src/wire/connection.js';
import type { WireSocket } from '../../src/wire/socket.js';

vi.mock('../../src/harper/log.js', () => ({ log: { error() {}, warn() {}, info() {}, debug() {}, trace() {} } }));

function fakeSocket() {
  let onData: (chunk: Buffer) => void = () => undefined;
  const written: Buffer[] = [];
  const socket = {
    remoteAddress: '127.0.0.1',
    raw: {},
    ends: 0,
    closed: false,
    onData: (listener: (chunk: Buffer) => void) => (onData = listener),
    onClose: () => undefined,
    write: (bytes: Buffer) => (written.push(Buffer.from(bytes)), true),
    onDrain: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    end() {
      this.ends++;
    },
    close: () => undefined,
    verifiedCommonName: () => null,
  };
  return { socket, written, receive: (chunk: Buffer) => onData(chunk) };
}

function open(maxPacketSize = 1024) {
  const { socket, written, receive } = fakeSocket();
  const events = new EventEmitter();
  const errors: Error[] = [];
  events.on('error', (error: Error) => errors.push(error));
  const session: SessionHandler = {
    sessionPresent: false,
    subscribe: async () => 0,
    unsubscribe: () => false,
    publish: async () => null,
    acknowledged: () => true,
    resume: async () => undefined,
    setSessionExpiry: () => undefined,
    close: () => undefined,
  };
  new Connection(socket as unknown as WireSocket, {
    limits: { maxPacketSize, receiveMaximum: 10, topicAliasMaximum: 10, maxKeepalive: 0 },
    counters: new Counters(),
    mqtt: { events, sessions: new Set() },
    authenticate: async () => undefined,
    open: () => session,
  });
  return { socket, written, receive, errors };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('Connection', () => {
  it('after an over-size PUBLISH, the rest of its bytes are not read as packets', async () => {
    const { socket, written, receive, errors } = open();
    receive(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 0 } as never));
    await settle();
    expect(written[0]![0]! >> 4).toBe(2); // CONNACK
    const big = generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(64 * 1024), qos: 0, retain: false, dup: false } as never, { protocolVersion: 5 });
    for (let offset = 0; offset < big.length; offset += 4096) receive(big.subarray(offset, offset + 4096));
    expect(socket.ends).toBe(1);
    expect(errors).toHaveLength(1);
    expect(written.slice(1).map((bytes) => bytes[0]! >> 4)).toEqual([14]); // one DISCONNECT (0x95)
    expect(written[1]!.includes(0x95)).toBe(true);
  });

  it('a malformed packet followed by more in the same chunk is one violation and one close', async () => {
    const { socket, receive, errors } = open();
    receive(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 0 } as never));
    await settle();
    receive(Buffer.alloc(20_000)); // 10,000 packets of reserved type 0
    expect(errors).toHaveLength(1);
    expect(socket.ends).toBe(1);
  });

  it('keeps no timer once CONNECT has arrived (a pending 10 s timer kept every closed connection in memory)', async () => {
    vi.useFakeTimers();
    try {
      const { written, receive } = open();
      expect(vi.getTimerCount()).toBe(1); // waiting for CONNECT
      receive(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 0 } as never));
      await vi.advanceTimersByTimeAsync(1);
      expect(written[0]![0]! >> 4).toBe(2); // CONNACK
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
