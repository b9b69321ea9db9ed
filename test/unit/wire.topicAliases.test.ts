import { describe, expect, it } from 'vitest';
import { InboundAliases, OutboundAliases } from '../../src/wire/topicAliases.js';

describe('InboundAliases', () => {
  it('sets an alias with a topic and uses it with an empty topic', () => {
    const aliases = new InboundAliases(10);
    expect(aliases.resolve('a/b', 3)).toEqual({ topic: 'a/b' });
    expect(aliases.resolve('', 3)).toEqual({ topic: 'a/b' });
    expect(aliases.resolve('c', 3)).toEqual({ topic: 'c' }); // re-set
    expect(aliases.resolve('', 3)).toEqual({ topic: 'c' });
    expect(aliases.resolve('plain', undefined)).toEqual({ topic: 'plain' });
  });

  it.each([
    [0, 0x94],
    [11, 0x94],
  ])('refuses alias %d with %d', (alias, reasonCode) => {
    expect(new InboundAliases(10).resolve('t', alias)).toMatchObject({ reasonCode });
  });

  it('refuses an alias used before it was set, and any alias when none are offered', () => {
    expect(new InboundAliases(10).resolve('', 4)).toMatchObject({ reasonCode: 0x82 });
    expect(new InboundAliases(0).resolve('t', 1)).toMatchObject({ reasonCode: 0x94 });
  });
});

describe('OutboundAliases', () => {
  it('gives the first topics an alias each, sends a known topic as its alias', () => {
    const aliases = new OutboundAliases(2);
    expect(aliases.use('a')).toEqual({ alias: 1, withTopic: true });
    expect(aliases.use('a')).toEqual({ alias: 1, withTopic: false });
    expect(aliases.use('b')).toEqual({ alias: 2, withTopic: true });
    expect(aliases.use('c')).toBeNull();
    expect(new OutboundAliases(0).use('a')).toBeNull();
  });
});
