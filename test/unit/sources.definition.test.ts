import { describe, expect, it } from 'vitest';
import { parseSource, parseSourceList } from '../../src/sources/definition.js';
import { parseFields, mapRow } from '../../src/sources/mapping.js';
import { parseFilter } from '../../src/sources/filter.js';
import { parseTemplate, renderTopic } from '../../src/sources/template.js';

const names = { table: 'TableA', database: 'data', op: 'insert', source: 'a' } as const;

describe('topic templates', () => {
  it('fills row fields and the change\'s own names', () => {
    const template = parseTemplate('data/{table}/{MonitorId}/{op}');
    expect(template.rowFields).toEqual(['MonitorId']);
    expect(renderTopic(template, names, { MonitorId: 'M7' })).toEqual({ topic: 'data/TableA/M7/insert' });
    expect(renderTopic(parseTemplate('t/{at}'), names, { at: new Date(0) })).toEqual({ topic: 't/1970-01-01T00:00:00.000Z' });
  });

  it('says why a row gives no topic', () => {
    const template = parseTemplate('data/{MonitorId}');
    expect(renderTopic(template, names, {})).toEqual({ problem: 'the row has no MonitorId for topic data/{MonitorId}' });
    expect(renderTopic(template, names, { MonitorId: 'a/+' })).toEqual({ problem: 'MonitorId = "a/+" would put a wildcard or NUL in the topic' });
    expect(renderTopic(template, names, { MonitorId: { x: 1 } })).toEqual({ problem: 'MonitorId is not a plain value (topic data/{MonitorId})' });
  });

  it.each([
    ['x/{nope', 'topic "x/{nope": "{" at 2 is not closed'],
    ['x/}', 'topic "x/}": "}" without "{"'],
    ['x/{a b}', 'topic "x/{a b}": "{a b}" is not a field name'],
    ['x/#', 'topic "x/#": wildcards (+, #) and NUL are not allowed in a topic'],
    ['', 'topic must be a non-empty template like "data/{table}/{MonitorId}"'],
  ])('refuses %j', (text, message) => {
    expect(() => parseTemplate(text)).toThrow(message);
  });
});

describe('field mapping', () => {
  it('selects, renames and reads nested fields; no mapping keeps the row', () => {
    const row = { MonitorId: 'M1', Value: 3, power: { battery: 80 }, other: true };
    expect(mapRow(parseFields({ MonitorId: 'monitor', Value: 'value', 'power.battery': 'battery' }), row)).toEqual({ monitor: 'M1', value: 3, battery: 80 });
    expect(mapRow(parseFields(['Value', 'missing']), row)).toEqual({ Value: 3 });
    expect(mapRow(parseFields(undefined), row)).toBe(row);
  });

  it('refuses mappings that lose fields or are empty', () => {
    expect(() => parseFields({ a: 'x', b: 'x' })).toThrow('fields: two fields map to "x"');
    expect(() => parseFields([])).toThrow('fields must be a non-empty list');
    expect(() => parseFields({ a: 3 })).toThrow('fields: "a" -> 3 must map a field name to a field name');
  });
});

describe('row filters', () => {
  it('compares, combines and never evaluates text', () => {
    const hot = parseFilter({ field: 'value', gt: 40 })!;
    expect([hot({ value: 41 }), hot({ value: 40 }), hot({ value: '50' }), hot({})]).toEqual([true, false, false, false]);
    const both = parseFilter([{ field: 'site', in: ['a', 'b'] }, { not: { field: 'status', eq: 'off' } }])!;
    expect([both({ site: 'a', status: 'on' }), both({ site: 'a', status: 'off' }), both({ site: 'c' })]).toEqual([true, false, false]);
    const any = parseFilter({ any: [{ field: 'name', startsWith: 'pump' }, { field: 'alarm', exists: true }] })!;
    expect([any({ name: 'pump-1' }), any({ alarm: 0 }), any({ name: 'fan' })]).toEqual([true, true, false]);
    const nested = parseFilter({ field: 'power.battery', lte: 10 })!;
    expect([nested({ power: { battery: 5 } }), nested({ power: null })]).toEqual([true, false]);
  });

  it.each([
    [{ field: 'v', gt: 1, lt: 3 }, 'filter: one comparison per condition'],
    [{ field: 'v', like: 'x' }, 'filter: unknown comparison "like"'],
    [{ gt: 1 }, 'filter needs a field name'],
    [{ field: 'v', gt: true }, 'filter.gt must be a number or a string'],
    [{ any: [] }, 'filter.any must be a non-empty list of conditions'],
    ['value > 40', 'filter must be a condition like { field: value, gt: 40 }'],
  ])('refuses %j', (spec, message) => {
    expect(() => parseFilter(spec)).toThrow(message);
  });
});

describe('source definitions', () => {
  it('fills defaults', () => {
    const source = parseSource({ table: 'TableA', topic: 'data/{table}/{MonitorId}' }, 'sources[0]', 'data');
    expect([source.name, source.database, [...source.operations], source.qos, source.retain, source.mode, source.from, source.fields, source.filter]).toEqual([
      'TableA', 'data', ['insert', 'update', 'delete'], 1, false, 'event', 'now', null, null,
    ]);
    expect(parseSource({ table: 't', topic: 'x', from: '2026-01-31T10:00:00Z' }, 's', 'data').from).toBe(Date.parse('2026-01-31T10:00:00Z'));
  });

  it.each([
    [{ table: 't', topic: 'x', qos: 3 }, 'sources[1] (t): qos must be 0, 1 or 2, got 3'],
    [{ table: 't', topic: 'x', colour: 'red' }, 'sources[1] (t): unknown option "colour"'],
    [{ name: 'n', table: 't', topic: 'x/{id}', mode: 'batch' }, 'sources[1] (n): topic "x/{id}": a batch message holds many rows, so its topic may only use {table}, {database}, {source}'],
    [{ table: 't', topic: 'x/{op}', mode: 'batch' }, 'sources[1] (t): topic "x/{op}": a batch message can mix operations, so its topic cannot use {op}'],
    [{ table: 't', topic: 'x', operations: ['insert', 'upsert'] }, 'sources[1] (t): operations: unknown operation "upsert" (insert, update, delete)'],
    [{ table: 't', topic: 'x', from: 'yesterday' }, 'sources[1] (t): from must be "now", a date like "2026-01-31T10:00:00Z" or epoch milliseconds, got "yesterday"'],
    [{ topic: 'x' }, 'sources[1]: table must be a table name'],
    [{ table: 't', topic: 'x', track: 'yes' }, 'sources[1] (t): track must be true or false, got "yes"'],
  ])('refuses %j naming the entry', (spec, message) => {
    expect(() => parseSource(spec, 'sources[1]', 'data')).toThrow(message);
  });

  it('refuses bad entries of a list one by one, keeping the others', () => {
    const parsed = parseSourceList([{ table: 'A', topic: 'a/{id}' }, { table: 'B', topic: 'b', qos: 'high' }, { table: 'A', topic: 'again' }, { table: 'C', topic: 'c' }], 'config.yaml sources', 'data');
    expect(parsed.sources.map((s) => s.name)).toEqual(['A', 'C']);
    expect(parsed.refused).toEqual([
      { name: 'B', error: 'config.yaml sources[1] (B): qos must be 0, 1 or 2, got "high"' },
      { name: 'A', error: 'config.yaml sources[2] (A): another source has the name A; give one a name: option' },
    ]);
  });
});
