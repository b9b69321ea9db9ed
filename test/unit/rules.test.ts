import { describe, expect, it } from 'vitest';
import { checkSharedTables, columnValue, parseRule, ruleDefinition, RuleError } from '../../src/rules/rule.js';
import { RuleSet } from '../../src/rules/ruleSet.js';

const rule = (pattern: string, table = 'fleet', extra: object = {}) => parseRule({ pattern, table, ...extra }, 'rule', 'data');

describe('parseRule', () => {
  it('reads a rule with short and long column forms', () => {
    const parsed = rule('org/+org/devices/+device/+metric', 'device_metrics', { columns: { temperature: 'Float', battery: { type: 'Int', field: 'power.battery' } } });
    expect(parsed.table).toBe('device_metrics');
    expect(parsed.database).toBe('data');
    expect(parsed.pattern.names).toEqual(['org', 'device', 'metric']);
    expect(parsed.columns).toEqual({ temperature: { type: 'Float', field: 'temperature' }, battery: { type: 'Int', field: 'power.battery' } });
    expect(ruleDefinition(parsed)).toEqual({
      pattern: 'org/+org/devices/+device/+metric',
      table: 'device_metrics',
      database: 'data',
      columns: { temperature: { type: 'Float', field: 'temperature' }, battery: { type: 'Int', field: 'power.battery' } },
    });
  });

  it.each([
    [{ pattern: 'a/+x', table: 'ok', colums: {} }, 'rule: unknown field "colums" (known: pattern, table, database, columns)'],
    [{ pattern: 'a/b', table: 'ok' }, 'rule: pattern "a/b": a pattern needs at least one wildcard (+ or #); a single topic needs no rule'],
    [{ pattern: 'a/+x', table: 'my-table' }, 'rule: (a/+x) table must be a name of letters, digits and _ , starting with a letter'],
    [{ pattern: 'a/+x', table: 'mqtt_history' }, 'rule: (a/+x) table "mqtt_history" is reserved (mqtt, mqtt_* and sys are this component\'s own)'],
    [{ pattern: 'a/+topic', table: 'ok' }, 'rule: (a/+topic) level name "topic" is a field every row has; choose another'],
    [{ pattern: 'fleet/+device/+metric', table: 'fleet' }, 'rule: (fleet/+device/+metric) table "fleet" would take the REST path /fleet/ that serves the topics under fleet/; name it differently (e.g. fleet_data)'],
    [{ pattern: 'a/+x', table: 'ok', columns: { t: 'Number' } }, 'rule: (a/+x) column "t": type "Number" is not one of String, Int, Float, Boolean, Date'],
    [{ pattern: 'a/+x', table: 'ok', columns: { x: 'Float' } }, 'rule: (a/+x) column "x" is already a row field or a level name'],
    ['a/+x', 'rule: a rule must be a mapping with pattern and table'],
  ])('refuses %j naming the entry', (raw, message) => {
    expect(() => parseRule(raw, 'rule', 'data')).toThrow(new RuleError(message));
  });

  it('lets rules share a table only when they agree on its columns', () => {
    expect(() => checkSharedTables([rule('org/+org/devices/+device/+metric'), rule('org/+org/gateways/+device/+metric')])).not.toThrow();
    expect(() => checkSharedTables([rule('a/+x', 'fleet'), rule('b/+y', 'fleet', { columns: { x: 'Float' } })])).toThrow(/disagree on "x" \(level in one, Float in b\/\+y\)/);
  });
});

describe('columnValue', () => {
  const json = { temperature: 41.5, power: { battery: 87 }, label: 'kitchen', ok: true, at: '2026-11-23T10:00:00Z', text: '12.5' };
  it.each([
    ['Float', 'temperature', 41.5],
    ['Float', 'text', 12.5],
    ['Int', 'power.battery', 87],
    ['Int', 'temperature', null],
    ['String', 'label', 'kitchen'],
    ['String', 'temperature', '41.5'],
    ['Boolean', 'ok', true],
    ['Boolean', 'label', null],
    ['Float', 'missing.deep', null],
  ] as const)('%s from %s', (type, field, expected) => {
    expect(columnValue({ type, field }, json)).toEqual(expected);
  });

  it('reads dates from ISO text and epoch milliseconds', () => {
    expect(columnValue({ type: 'Date', field: 'at' }, json)).toEqual(new Date('2026-11-23T10:00:00Z'));
    expect(columnValue({ type: 'Date', field: 'temperature' }, { temperature: 0 })).toEqual(new Date(0));
    expect(columnValue({ type: 'Date', field: 'label' }, json)).toBeNull();
  });
});

describe('RuleSet', () => {
  const set = new RuleSet([rule('org/#rest', 'everything'), rule('org/+org/devices/+device/+metric', 'devices'), rule('org/acme/devices/+device/+metric', 'acme')]);

  it('gives a topic to the most specific matching rule', () => {
    expect(set.match('org/acme/devices/d1/temp')?.rule.table).toBe('acme');
    expect(set.match('org/other/devices/d1/temp')).toMatchObject({ rule: { table: 'devices' }, levels: { org: 'other', device: 'd1', metric: 'temp' } });
    expect(set.match('org/other/gateways/g1')).toMatchObject({ rule: { table: 'everything' }, levels: { rest: 'other/gateways/g1' } });
    expect(set.match('home/temp')).toBeNull();
  });

  it('keeps the listed order between equally specific rules', () => {
    const tie = new RuleSet([rule('a/+x', 'first'), rule('a/+y', 'second')]);
    expect(tie.match('a/b')?.rule.table).toBe('first');
  });

  it('lists the rules a filter reaches', () => {
    expect(set.overlapping('org/+/devices/d1/#').map((o) => o.rule.table)).toEqual(['acme', 'devices', 'everything']);
    expect(set.overlapping('home/#')).toEqual([]);
  });
});
