import { describe, expect, it } from 'vitest';
import {
  literalPart,
  prefixForFilter,
  prefixLevels,
  RESERVED_TABLE_NAMES,
  resourcePathFor,
  rowKey,
  splitTopic,
  tableNameFor,
} from '../../src/topics/naming.js';

describe('splitTopic', () => {
  it.each([
    ['a/b/c/d', 'a/b/c/', 'd'],
    ['home/sensors/temp', 'home/sensors/', 'temp'],
    ['temp', '', 'temp'],
    ['/temp', '/', 'temp'],
    ['a//b', 'a//', 'b'],
    ['a/', 'a/', ''],
    ['/', '/', ''],
  ])('%j -> prefix %j row %j', (topic, prefix, row) => {
    expect(splitTopic(topic)).toEqual({ prefix, row });
    expect(prefix + row).toBe(topic);
  });

  it('gives each level its own prefix', () => {
    expect(splitTopic('home/sensors/temp').prefix).not.toBe(splitTopic('home/sensors/temp/living-room').prefix);
  });
});

describe('prefixLevels', () => {
  it('distinguishes zero levels from one empty level', () => {
    expect(prefixLevels('')).toEqual([]);
    expect(prefixLevels('/')).toEqual(['']);
    expect(prefixLevels('a//')).toEqual(['a', '']);
  });
});

describe('prefixForFilter', () => {
  it.each([
    ['a/b/c/#', 'a/b/c/'],
    ['a/b/c/+', 'a/b/c/'],
    ['a/+/c', 'a/'],
    ['a/b/c', 'a/b/'],
    ['single', ''],
    ['#', null],
    ['+/x', null],
  ])('%j -> %j', (filter, prefix) => {
    expect(prefixForFilter(filter)).toBe(prefix);
  });
});

describe('tableNameFor', () => {
  it('gives readable names to lower-case alphanumeric levels', () => {
    expect(tableNameFor('a/b/c/')).toBe('mqtt_a_b_c');
    expect(tableNameFor('home/sensors/')).toBe('mqtt_home_sensors');
    expect(tableNameFor('home/sensors/temp/')).toBe('mqtt_home_sensors_temp');
    expect(tableNameFor('')).toBe('mqtt');
  });

  it('keeps prefixes that sanitize alike apart', () => {
    const names = ['a/b/', 'a_b/', 'A-B/', 'a-b/', 'A/B/', 'a b/'].map((p) => tableNameFor(p));
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe('mqtt_a_b');
    for (const name of names.slice(1)) expect(name).toMatch(/^mqtt_a_b__[0-9a-f]{10}$/);
  });

  it('keeps empty levels, leading slashes and the root apart', () => {
    const names = ['', '/', '//', 'a//', 'a/', '/a/'].map((p) => tableNameFor(p));
    expect(new Set(names).size).toBe(names.length);
  });

  it('shortens over-long prefixes with a hash', () => {
    const long = 'level/'.repeat(200);
    const name = tableNameFor(long);
    expect(name.length).toBeLessThanOrEqual(5 + 40 + 2 + 10);
    expect(name).toMatch(/__[0-9a-f]{10}$/);
    expect(tableNameFor(long + 'x/')).not.toBe(name);
  });

  it('never hands out a reserved name', () => {
    for (const reserved of RESERVED_TABLE_NAMES) {
      const prefix = reserved.slice('mqtt_'.length).replaceAll('_', '/') + '/';
      expect(tableNameFor(prefix)).not.toBe(reserved);
      expect(tableNameFor(prefix)).toMatch(/__[0-9a-f]{10}$/);
    }
  });

  it('only uses HarperDB-safe characters', () => {
    for (const prefix of ['ünï/cøde/', '$SYS/x/', 'a.b/', 'sp ace/', '#/', '+/']) {
      expect(tableNameFor(prefix)).toMatch(/^mqtt[a-z0-9_]*$/);
    }
  });

  it('lengthens the hash on request (collision fallback)', () => {
    expect(tableNameFor('A/', 16)).toMatch(/__[0-9a-f]{16}$/);
  });
});

describe('resourcePathFor', () => {
  it.each([
    ['a/b/c/', 'a/b/c'],
    ['e2e/publish-first/', 'e2e/publish-first'],
    ['', null],
    ['/', null],
    ['/a/', null],
    ['a//', null],
    ['a.b/', null],
    ['a b/', null],
    ['$SYS/', null],
    ['a/', null],
    ['ab/', 'ab'],
    ['a/b/', 'a/b'],
  ])('%j -> %j', (prefix, path) => {
    expect(resourcePathFor(prefix)).toBe(path);
  });
});

describe('literalPart', () => {
  it.each([
    ['a/b/#', 'a/b'],
    ['a/+/c', 'a'],
    ['a/b', 'a/b'],
    ['#', ''],
    ['+/x', ''],
    ['/+', ''],
  ])('%j -> %j', (filter, literal) => {
    expect(literalPart(filter)).toBe(literal);
  });
});

describe('rowKey', () => {
  it('keeps ids that fit a HarperDB key, hashes longer ones with a # no topic can contain', () => {
    expect(rowKey('temp')).toBe('temp');
    const fits = 'x'.repeat(1900);
    expect(rowKey(fits)).toBe(fits);
    const long = 'é'.repeat(1000); // 2000 bytes
    expect(rowKey(long)).toMatch(/^#[0-9a-f]{64}$/);
    expect(rowKey(long)).not.toBe(rowKey(long + 'x'));
  });
});
