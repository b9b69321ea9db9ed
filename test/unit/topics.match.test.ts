import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../src/topics/match.js';
import { FilterTrie } from '../../src/topics/trie.js';

// [filter, topic, matches] — the cases of MQTT 3.1.1 section 4.7 plus edge cases.
const cases: Array<[string, string, boolean]> = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/#', 'sport', true],
  ['#', 'sport/tennis', true],
  ['#', '/leading', true],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['+', 'finance', true],
  ['a//b', 'a//b', true],
  ['a/+/b', 'a//b', true],
  ['a/b', 'a/b/', false],
  ['a/b/', 'a/b/', true],
  ['#', '$SYS/broker/uptime', false],
  ['+/broker/uptime', '$SYS/broker/uptime', false],
  ['$SYS/#', '$SYS/broker/uptime', true],
  ['$SYS/+/uptime', '$SYS/broker/uptime', true],
  ['#', '$other', false],
  ['a/#', 'a/$b', true],
];

describe('topicMatches', () => {
  it.each(cases)('%j vs %j -> %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('FilterTrie', () => {
  it.each(cases)('agrees with topicMatches: %j vs %j', (filter, topic, expected) => {
    const trie = new FilterTrie<string>();
    trie.add(filter, 'v');
    const seen: string[] = [];
    trie.match(topic, (v) => seen.push(v));
    expect(seen.length === 1).toBe(expected);
  });

  it('finds every matching filter once and forgets removed ones', () => {
    const trie = new FilterTrie<string>();
    const filters = ['#', 'a/#', 'a/+', 'a/b', '+/b', 'a/b/#', 'x/y'];
    for (const f of filters) trie.add(f, f);
    const hits = () => {
      const seen: string[] = [];
      trie.match('a/b', (v) => seen.push(v));
      return seen.sort();
    };
    expect(hits()).toEqual(['#', '+/b', 'a/#', 'a/+', 'a/b', 'a/b/#']);
    expect(trie.remove('a/+', 'a/+')).toBe(true);
    expect(trie.remove('a/+', 'a/+')).toBe(false);
    expect(trie.remove('a/b/#', 'a/b/#')).toBe(true);
    expect(hits()).toEqual(['#', '+/b', 'a/#', 'a/b']);
    expect(trie.size).toBe(5);
  });

  it('prunes branches of removed filters', () => {
    const trie = new FilterTrie<number>();
    trie.add('a/b/c/#', 1);
    trie.remove('a/b/c/#', 1);
    expect(trie.size).toBe(0);
    // An internal detail worth pinning: nothing is left under the root.
    expect((trie as unknown as { root: { isEmpty(): boolean } }).root.isEmpty()).toBe(true);
  });

  it('keeps one entry per (filter, value) pair', () => {
    const trie = new FilterTrie<string>();
    trie.add('a/+', 's1');
    trie.add('a/+', 's1');
    trie.add('a/+', 's2');
    const seen: string[] = [];
    trie.match('a/x', (v) => seen.push(v));
    expect(seen.sort()).toEqual(['s1', 's2']);
    expect(trie.size).toBe(2);
  });
});
