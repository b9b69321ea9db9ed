import { describe, expect, it } from 'vitest';
import { ConnectRefused, PendingConnects, readConnect, type ConnectPacket } from '../../src/session/connect.js';

describe('readConnect', () => {
  it('reads MQTT 3.1.1 clean and persistent sessions', () => {
    expect(readConnect({ clientId: 'a', protocolVersion: 4, clean: true })).toMatchObject({ persistent: false, cleanStart: true });
    expect(readConnect({ clientId: 'a', protocolVersion: 4, clean: false })).toMatchObject({
      persistent: true,
      cleanStart: false,
      sessionExpiry: null,
    });
  });

  it('reads MQTT 5 session expiry', () => {
    expect(readConnect({ clientId: 'a', protocolVersion: 5, clean: false })).toMatchObject({ persistent: false });
    expect(
      readConnect({ clientId: 'a', protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 300, receiveMaximum: 5 } }),
    ).toMatchObject({ persistent: true, cleanStart: true, sessionExpiry: 300, receiveMaximum: 5 });
    expect(readConnect({ clientId: 'a', protocolVersion: 5, properties: { sessionExpiryInterval: 0xffffffff } }).sessionExpiry).toBeNull();
  });

  it('gives anonymous clean clients an id and refuses anonymous persistent ones', () => {
    const packet: ConnectPacket = { clientId: '', protocolVersion: 4, clean: true };
    const info = readConnect(packet);
    expect(info.clientId).toMatch(/^auto-/);
    expect(packet.clientId).toBe(info.clientId);
    expect(() => readConnect({ clientId: '', protocolVersion: 4, clean: false })).toThrow(ConnectRefused);
    try {
      readConnect({ clientId: '', protocolVersion: 4, clean: false });
    } catch (error) {
      expect((error as ConnectRefused).code).toBe(0x02);
    }
  });

  it('takes the will away from HarperDB', () => {
    const packet: ConnectPacket = {
      clientId: 'w',
      protocolVersion: 5,
      will: { topic: 'status/w', payload: Buffer.from('gone'), qos: 1, retain: true, properties: { contentType: 'text/plain' } },
    };
    const info = readConnect(packet);
    expect(packet.will).toBeUndefined();
    expect(info.will).toMatchObject({ topic: 'status/w', qos: 1, retain: true, properties: { contentType: 'text/plain' } });
    expect(info.will?.payload.toString()).toBe('gone');
  });

  it.each(['a/+', '$SYS/x', ''])('refuses a will on %j', (topic) => {
    expect(() => readConnect({ clientId: 'w', protocolVersion: 4, will: { topic } })).toThrow(/invalid will/);
  });
});

describe('PendingConnects', () => {
  it('hands each CONNECT to its session in arrival order', () => {
    const pending = new PendingConnects();
    const first = readConnect({ clientId: 'same', protocolVersion: 4 });
    const second = readConnect({ clientId: 'same', protocolVersion: 5 });
    pending.add(first);
    pending.add(second);
    expect(pending.take('same')).toBe(first);
    expect(pending.take('same')).toBe(second);
    expect(pending.take('same')).toBeUndefined();
  });
});
