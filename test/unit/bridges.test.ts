import { describe, expect, it } from 'vitest';
import { afterRefusal, isRefusal, reasonText, retryDelayMs } from '../../src/bridges/backoff.js';
import { OutboundCursor } from '../../src/bridges/cursor.js';
import { bridgeOrigin, inboundFor, outboundFor } from '../../src/bridges/rules.js';
import { publicSpec, readBridgeList, readBridgeSpec } from '../../src/bridges/spec.js';
import { applyTemplate, templateProblem } from '../../src/bridges/template.js';

const exists = (path: string) => path.startsWith('/ok/');
const base = { name: 'plant', url: 'mqtt://127.0.0.1:1883', outbound: [{ filter: 'devices/#' }] };

describe('bridge topic templates', () => {
  it('strips a prefix and fills ${topic}', () => {
    expect(applyTemplate({ template: 'fwd/${topic}' }, 'devices/a/t')).toBe('fwd/devices/a/t');
    expect(applyTemplate({ template: 'plant1/${topic}', stripPrefix: 'devices/' }, 'devices/a/t')).toBe('plant1/a/t');
    expect(applyTemplate({ template: 'fixed/topic' }, 'devices/a')).toBe('fixed/topic');
    expect(applyTemplate({ template: '${topic}', stripPrefix: 'other/' }, 'devices/a')).toBe('devices/a');
  });

  it('refuses wildcards and unknown placeholders', () => {
    expect(templateProblem('fwd/#')).toMatch(/wildcards/);
    expect(templateProblem('fwd/${device}')).toMatch(/only use the placeholder/);
    expect(templateProblem('')).toMatch(/non-empty/);
    expect(templateProblem('a/${topic}/b')).toBeNull();
  });
});

describe('bridge rules', () => {
  const spec = readBridgeSpec({ ...base, outbound: [{ filter: 'devices/+/t', remoteTopic: 'fwd/${topic}', qos: 2, retain: false }, { filter: 'devices/#', stripPrefix: 'devices/', remoteTopic: 'all/${topic}' }], inbound: [{ filter: 'cmd/#', localTopic: 'remote/${topic}', qos: 1 }] }, exists);

  it('sends a message by the first rule that matches', () => {
    expect(outboundFor(spec.outbound, { topic: 'devices/a/t', retain: true, clientId: 'c' }, 'plant')).toEqual({ topic: 'fwd/devices/a/t', qos: 2, retain: false });
    expect(outboundFor(spec.outbound, { topic: 'devices/a/b', retain: true, clientId: 'c' }, 'plant')).toEqual({ topic: 'all/a/b', qos: 1, retain: true });
    expect(outboundFor(spec.outbound, { topic: 'other/a', retain: false, clientId: 'c' }, 'plant')).toBeNull();
  });

  it('never sends back what came in through the same bridge (loop prevention)', () => {
    expect(outboundFor(spec.outbound, { topic: 'devices/a/t', retain: false, clientId: bridgeOrigin('plant') }, 'plant')).toBeNull();
    expect(outboundFor(spec.outbound, { topic: 'devices/a/t', retain: false, clientId: bridgeOrigin('other') }, 'plant')).not.toBeNull();
  });

  it('maps inbound topics', () => {
    expect(inboundFor(spec.inbound, 'cmd/x/y')).toEqual({ topic: 'remote/cmd/x/y', qos: 1 });
    expect(inboundFor(spec.inbound, 'status/x')).toBeNull();
  });
});

describe('backoff and dead letters', () => {
  it('doubles the delay from one second', () => {
    expect([1, 2, 3, 4, 5].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(retryDelayMs(40)).toBe(300_000);
  });

  it('dead-letters after maxAttempts refusals, not before', () => {
    expect(afterRefusal(1, 5, 0)).toEqual({ action: 'retry', atMs: 1000 });
    expect(afterRefusal(4, 5, 100)).toEqual({ action: 'retry', atMs: 8100 });
    expect(afterRefusal(5, 5, 0)).toEqual({ action: 'dead-letter' });
    expect(afterRefusal(1, 1, 0)).toEqual({ action: 'dead-letter' });
  });

  it('treats MQTT 5 reason codes >= 0x80 as refusals', () => {
    expect(isRefusal(0x87)).toBe(true);
    expect(isRefusal(0x10)).toBe(false);
    expect(isRefusal(undefined)).toBe(false);
    expect(reasonText(0x87, 'Not authorized')).toBe('0x87 Not authorized');
  });
});

describe('outbound cursor', () => {
  it('stays below the oldest unacknowledged message', () => {
    const cursor = new OutboundCursor(10);
    cursor.advanceRead(11, true);
    cursor.advanceRead(12, false);
    cursor.advanceRead(13, true);
    expect(cursor.position).toBe(10);
    cursor.finish(13);
    expect(cursor.position).toBe(10);
    cursor.finish(11);
    expect(cursor.position).toBe(13);
    cursor.advanceRead(20, false);
    expect(cursor.position).toBe(20);
    expect(cursor.inflight).toBe(0);
  });

  it('rewinds to the cursor', () => {
    const cursor = new OutboundCursor(5);
    cursor.advanceRead(6, true);
    cursor.rewind();
    expect([cursor.position, cursor.readPosition, cursor.inflight]).toEqual([5, 5, 0]);
  });
});

describe('bridge specs', () => {
  it('fills defaults', () => {
    const spec = readBridgeSpec(base, exists);
    expect(spec).toMatchObject({ protocol: 5, clientId: 'harper-bridge-plant', keepalive: 60, clean: false, inflight: 20, maxAttempts: 5, deadLetterRetainDays: 30 });
    expect(spec.outbound[0]).toEqual({ filter: 'devices/#', remoteTopic: '${topic}', qos: 1, retain: 'as-published' });
  });

  it.each([
    [{ ...base, url: 'http://x' }, /bridge "plant": url must start with mqtt:\/\//],
    [{ ...base, url: 'not a url' }, /bridge "plant": url "not a url" is not a URL/],
    [{ ...base, colour: 'red' }, /bridge "plant": unknown field "colour"/],
    [{ ...base, url: 'mqtts://h', tls: { ca: '/missing/ca.pem' } }, /bridge "plant".tls.ca: file \/missing\/ca.pem does not exist/],
    [{ ...base, tls: { ca: '/ok/ca.pem' } }, /tls needs an mqtts:\/\/ or wss:\/\/ url/],
    [{ ...base, protocol: 3 }, /protocol must be 5 or "3.1.1"/],
    [{ ...base, outbound: [{ filter: 'a/#/b' }] }, /outbound\[0\].filter/],
    [{ ...base, outbound: [{ filter: 'a/#', qos: 3 }] }, /outbound\[0\].qos must be a whole number from 0 to 2/],
    [{ ...base, outbound: [] }, /has no outbound and no inbound rules/],
    [{ ...base, name: 'a b' }, /name must be/],
  ])('refuses %j naming the bridge and field', (raw, message) => {
    expect(() => readBridgeSpec(raw, exists)).toThrow(message);
  });

  it('keeps the good entries of a list and reports each bad one once', () => {
    const { specs, problems } = readBridgeList([base, { ...base, name: 'bad', url: 'ftp://x' }, { url: 'mqtt://x' }, base], exists);
    expect(specs.map((spec) => spec.name)).toEqual(['plant']);
    expect(problems).toEqual([
      'bridge "bad": url must start with mqtt://, mqtts://, ws:// or wss://, got ftp://',
      'bridges[2]: name must be 1 to 64 letters, digits, _ or -',
      'bridge "plant": the name is used twice',
    ]);
  });

  it('never shows the password', () => {
    const view = publicSpec(readBridgeSpec({ ...base, username: 'u', password: 's3cret' }, exists));
    expect(JSON.stringify(view)).not.toContain('s3cret');
    expect(view).toMatchObject({ username: 'u', hasPassword: true });
  });
});
