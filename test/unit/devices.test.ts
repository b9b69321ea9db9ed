import { describe, expect, it } from 'vitest';
import { CredentialError, generatePassword, normalizePrefix, readChanges, readNewCredential, refusalOf, statusOf, viewOf, type CredentialRow } from '../../src/devices/credential.js';
import { basicFromBearer } from '../../src/ingest/bearer.js';
import { readIngestBody } from '../../src/ingest/ingestBody.js';
import { RateLimits } from '../../src/ingest/rateLimit.js';
import { literalPrefix, readTelemetryQuery } from '../../src/telemetry/telemetryQuery.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');
const row = (fields: Partial<CredentialRow> = {}): CredentialRow => ({
  id: 'd1',
  clientId: null,
  prefixes: ['org_a/#'],
  expiresAt: null,
  createdAt: NOW - 1000,
  createdBy: 'admin',
  lastConnectedAt: null,
  connectionCount: 0,
  revokedAt: null,
  ...fields,
});

describe('credentials', () => {
  it('passwords are 32 random URL-safe characters', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generatePassword()).not.toBe(a);
  });

  it('a bare prefix means everything under it; filters that reach everything are refused', () => {
    expect(normalizePrefix('org_a')).toBe('org_a/#');
    expect(normalizePrefix('org_a/')).toBe('org_a/#');
    expect(normalizePrefix('org_a/+/telemetry')).toBe('org_a/+/telemetry');
    expect(() => normalizePrefix('#')).toThrow(CredentialError);
    expect(() => normalizePrefix('$SYS/#')).toThrow(/\$SYS/);
    expect(() => normalizePrefix('a/#/b')).toThrow(CredentialError);
    expect(() => normalizePrefix('')).toThrow(CredentialError);
  });

  it('reads a new credential, with a generated user name when none is given', () => {
    expect(readNewCredential({ username: 'dev-1', prefixes: 'org_a', clientId: 'c1', expiresInSeconds: 60 }, NOW)).toEqual({
      username: 'dev-1',
      prefixes: ['org_a/#'],
      clientId: 'c1',
      expiresAt: NOW + 60_000,
    });
    expect(readNewCredential({ prefixes: ['org_a', 'org_a/#'] }, NOW)).toMatchObject({ username: expect.stringMatching(/^device-[0-9a-f]{12}$/), prefixes: ['org_a/#'], expiresAt: null });
    expect(() => readNewCredential({ username: 'a:b', prefixes: ['x'] }, NOW)).toThrow(/username/);
    expect(() => readNewCredential({ prefixes: [] }, NOW)).toThrow(/prefixes/);
    expect(() => readNewCredential({ prefixes: ['x'], expiresAt: '2020-01-01' }, NOW)).toThrow(/past/);
    expect(() => readNewCredential({ prefixes: ['x'], password: 'mine' }, NOW)).toThrow(/unknown field "password"/);
    expect(() => readNewCredential([], NOW)).toThrow(/JSON object/);
  });

  it('reads changes: null clears the expiry and the client id', () => {
    expect(readChanges({ expiresAt: null, clientId: null }, NOW)).toEqual({ expiresAt: null, clientId: null });
    expect(readChanges({ expiresAt: '2027-01-01T00:00:00Z' }, NOW)).toEqual({ expiresAt: Date.parse('2027-01-01T00:00:00Z') });
    expect(() => readChanges({}, NOW)).toThrow(/nothing to change/);
    expect(() => readChanges({ expiresAt: 'soon' }, NOW)).toThrow(/ISO 8601/);
  });

  it('refuses revoked (0x86), expired (0x87) and pinned to another client id (0x85)', () => {
    expect(refusalOf(row(), 'any', NOW)).toBeNull();
    expect(refusalOf(undefined, 'any', NOW)?.code).toBe(0x87);
    expect(refusalOf(row({ revokedAt: NOW - 1 }), 'any', NOW)?.code).toBe(0x86);
    expect(refusalOf(row({ expiresAt: NOW }), 'any', NOW)?.code).toBe(0x87);
    expect(refusalOf(row({ expiresAt: NOW + 1 }), 'any', NOW)).toBeNull();
    expect(refusalOf(row({ clientId: 'c1' }), 'c2', NOW)?.code).toBe(0x85);
    expect(refusalOf(row({ clientId: 'c1' }), null, NOW)).toBeNull();
    expect(statusOf(row({ revokedAt: 1, expiresAt: 1 }), NOW)).toBe('revoked');
  });

  it('a view has ISO times and no password', () => {
    const view = viewOf(row({ expiresAt: NOW + 1000 }), NOW);
    expect(view).toMatchObject({ username: 'd1', status: 'active', expiresAt: '2026-11-23T10:00:01.000Z', revokedAt: null });
    expect(Object.keys(view)).not.toContain('password');
  });
});

describe('HTTP ingest bodies', () => {
  it('takes JSON, text and base64 payloads, one message or a list', () => {
    const [json, text, bytes, empty] = readIngestBody(
      [
        { topic: 'a/b', payload: { x: 1 }, qos: 1 },
        { topic: 'a/b', payload: 'hi', retain: true },
        { topic: 'a/b', payloadBase64: 'AAH/' },
        { topic: 'a/b' },
      ],
      10,
    );
    expect(json).toEqual({ topic: 'a/b', payload: Buffer.from('{"x":1}'), qos: 1, retain: false });
    expect(text).toMatchObject({ payload: Buffer.from('hi'), retain: true, qos: 0 });
    expect(bytes!.payload).toEqual(Buffer.from([0, 1, 255]));
    expect(empty!.payload.length).toBe(0);
    expect(readIngestBody({ messages: [{ topic: 't', payload: 5 }] }, 10)[0]!.payload.toString()).toBe('5');
    expect(readIngestBody({ topic: 't', payload: 'x' }, 10)).toHaveLength(1);
  });

  it('says what is wrong', () => {
    expect(() => readIngestBody({ topic: 't', qos: 3 }, 10)).toThrow('message: qos must be 0, 1 or 2');
    expect(() => readIngestBody([{ topic: 't' }, { payload: 1 }], 10)).toThrow('message 1: topic must be a non-empty string');
    expect(() => readIngestBody({ topic: 't', payloadBase64: '***' }, 10)).toThrow(/base64/);
    expect(() => readIngestBody({ topic: 't', extra: 1 }, 10)).toThrow(/unknown field "extra"/);
    expect(() => readIngestBody([], 10)).toThrow(/no messages/);
    expect(() => readIngestBody(Array(11).fill({ topic: 't' }), 10)).toThrow(expect.objectContaining({ statusCode: 413 }));
  });

  it('turns a Bearer password with a user name into Basic credentials', () => {
    expect(basicFromBearer('Bearer s3cret', 'dev')).toBe('Basic ' + Buffer.from('dev:s3cret').toString('base64'));
    expect(basicFromBearer('Bearer s3cret', undefined)).toBeNull();
    expect(basicFromBearer('Basic abc', 'dev')).toBeNull();
  });

  it('limits messages per second per user, with a burst of one second', () => {
    const limits = new RateLimits(10);
    expect(limits.take('u', 10, 0)).toBe(0);
    expect(limits.take('u', 1, 0)).toBe(1);
    expect(limits.take('v', 5, 0)).toBe(0);
    expect(limits.take('u', 5, 500)).toBe(0);
    expect(limits.take('u', 11, 10_000)).toBe(Infinity);
    expect(new RateLimits(0).take('u', 1e6)).toBe(0);
    limits.sweep(100_000);
    expect(limits.take('u', 10, 100_000)).toBe(0);
  });
});

describe('telemetry queries', () => {
  it('reads topic, limit and a time range', () => {
    expect(readTelemetryQuery('topic=org_a/devices/d1/%23&limit=5&from=2026-11-23T00:00:00Z&to=1795400000000')).toEqual({
      filter: 'org_a/devices/d1/#',
      limit: 5,
      from: Date.parse('2026-11-23T00:00:00Z'),
      to: 1795400000000,
    });
    expect(readTelemetryQuery('topic=a').limit).toBe(100);
    expect(() => readTelemetryQuery('')).toThrow(/topic is required/);
    expect(() => readTelemetryQuery('topic=a/%23/b')).toThrow(/topic/);
    expect(() => readTelemetryQuery('topic=a&limit=0')).toThrow(/limit/);
    expect(() => readTelemetryQuery('topic=a&from=2&to=1')).toThrow(/after/);
    expect(() => readTelemetryQuery('topic=a&device=x')).toThrow(/unknown parameter device/);
  });

  it('finds the literal start of a filter', () => {
    expect(literalPrefix('a/b/c')).toBe('a/b/c');
    expect(literalPrefix('a/b/#')).toBe('a/b/');
    expect(literalPrefix('a/+/c')).toBe('a/');
    expect(literalPrefix('#')).toBe('');
  });
});
