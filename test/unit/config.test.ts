import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, DEFAULTS, envName, parseDuration, readConfigSection, resolveConfig } from '../../src/config.js';

describe('resolveConfig', () => {
  it('has defaults that work', () => {
    expect(resolveConfig(undefined, {})).toEqual(DEFAULTS);
    expect(DEFAULTS).toMatchObject({ database: 'data', historyTtl: 86_400, sysInterval: 10 });
  });

  it('reads config.yaml values and lets the environment override them', () => {
    const config = resolveConfig({ historyTtl: '1h', database: 'mqtt' }, { MQTT_BRIDGE_HISTORY_TTL: '0' });
    expect(config.historyTtl).toBe(0);
    expect(config.database).toBe('mqtt');
  });

  it('names environment variables after the option', () => {
    expect(envName('historyTtl')).toBe('MQTT_BRIDGE_HISTORY_TTL');
    expect(envName('restTopicPaths')).toBe('MQTT_BRIDGE_REST_TOPIC_PATHS');
  });

  it.each([
    [{ historyTtl: 'soon' }, /historyTtl must be a duration/],
    [{ database: 'my-db' }, /database must be a database name/],
    [{ maxInflight: 0 }, /maxInflight must be a positive integer/],
    [{ restTopicPaths: 'maybe' }, /restTopicPaths must be true or false/],
    [{ histroyTtl: 5 }, /unknown mqttBridge option "histroyTtl"/],
    [[1, 2], /must be a mapping/],
  ])('refuses %j with an actionable message', (section, message) => {
    expect(() => resolveConfig(section, {})).toThrow(ConfigError);
    expect(() => resolveConfig(section, {})).toThrow(message);
  });

  it('names the environment variable in its errors', () => {
    expect(() => resolveConfig({}, { MQTT_BRIDGE_SYS_INTERVAL: '-3' })).toThrow(/MQTT_BRIDGE_SYS_INTERVAL: sysInterval/);
  });
});

describe('parseDuration', () => {
  it.each([
    [10, 10],
    ['10', 10],
    ['30s', 30],
    ['15m', 900],
    ['24h', 86_400],
    ['7d', 604_800],
    ['0', 0],
    ['1.5h', 5400],
  ])('%j -> %d seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each([-1, 'x', '5w', '', null, NaN])('refuses %j', (input) => {
    expect(parseDuration(input)).toBeNull();
  });
});

describe('documentation of the options', () => {
  const shipped = readConfigSection(new URL('../../config.yaml', import.meta.url).pathname) as Record<string, unknown>;
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('config.yaml lists every option, with its default value', () => {
    expect(Object.keys(shipped).sort()).toEqual(Object.keys(DEFAULTS).sort());
    expect(resolveConfig(shipped, {})).toEqual(DEFAULTS);
  });

  it('the README names every option and its environment variable', () => {
    for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
      expect(readme).toContain(`\`${key}\``);
      expect(readme).toContain(`\`${envName(key)}\``);
    }
  });
});

describe('table rules and creation limits', () => {
  it('reads rules from config.yaml, defaulting their database to the configured one', () => {
    const config = resolveConfig({ database: 'iot', topicRules: [{ pattern: 'org/+org/devices/+device/+metric', table: 'device_metrics', columns: { temperature: 'Float' } }] }, {});
    expect(config.topicRules).toHaveLength(1);
    expect(config.topicRules[0]).toMatchObject({ table: 'device_metrics', database: 'iot', columns: { temperature: { type: 'Float', field: 'temperature' } } });
  });

  it('takes rules from MQTT_BRIDGE_TOPIC_RULES as YAML or JSON', () => {
    const config = resolveConfig(undefined, { MQTT_BRIDGE_TOPIC_RULES: '[{"pattern": "+site/logs/#path", "table": "site_logs"}]' });
    expect(config.topicRules[0]!.pattern.names).toEqual(['site', 'path']);
  });

  it.each([
    [{ topicRules: [{ pattern: 'a/+x', table: 'ok' }, { pattern: 'b/+y', table: 'mqtt_x' }] }, 'config.yaml mqttBridge: topicRules[1]: (b/+y) table "mqtt_x" is reserved'],
    [{ topicRules: { pattern: 'a/+x' } }, 'config.yaml mqttBridge: topicRules must be a list of rules'],
    [{ topicRules: [{ pattern: 'a/+x', table: 't' }, { pattern: 'b/+y', table: 't', columns: { x: 'Int' } }] }, 'config.yaml mqttBridge: rules for table data.t disagree on "x"'],
    [{ tableCreationRate: 0 }, 'tableCreationRate must be a positive number (per second), got 0'],
    [{ maxTopicTables: -1 }, 'maxTopicTables must be a whole number (0 turns it off), got -1'],
  ])('refuses %j naming the entry', (section, message) => {
    expect(() => resolveConfig(section, {})).toThrow(message);
  });

  it('reads sources, refusing a bad entry on its own, and refuses a section that is not a list', () => {
    const config = resolveConfig({ database: 'iot', sources: [{ table: 'A', topic: 'data/{table}/{MonitorId}' }, { table: 'B', topic: 'b', qos: 5 }] }, {});
    expect(config.sources.sources.map((s) => [s.name, s.database])).toEqual([['A', 'iot']]);
    expect(config.sources.refused).toEqual([{ name: 'B', error: 'config.yaml mqttBridge: sources[1] (B): qos must be 0, 1 or 2, got 5' }]);
    expect(resolveConfig(undefined, { MQTT_BRIDGE_SOURCES: '[{"table": "T", "topic": "t/{id}"}]' }).sources.sources[0]!.name).toBe('T');
    expect(() => resolveConfig({ sources: { table: 'A' } }, {})).toThrow('config.yaml mqttBridge: sources must be a list of sources (table, topic, ...; docs/sources.md), got {"table":"A"}');
  });

  it('names the variable when the environment gives bad rules', () => {
    expect(() => resolveConfig(undefined, { MQTT_BRIDGE_TOPIC_RULES: '[{"pattern": "a/b", "table": "t"}]' })).toThrow(
      'MQTT_BRIDGE_TOPIC_RULES: topicRules[0]: pattern "a/b": a pattern needs at least one wildcard',
    );
  });
});
