import { describe, expect, it } from 'vitest';
import { topicMatches } from '../../src/topics/match.js';
import { splitTopic } from '../../src/topics/naming.js';
import { PrefixTree } from '../../src/topics/prefixTree.js';

// Topics spread over tables by prefix; every filter must find exactly the topics topicMatches finds.
const topics = [
  'temp',
  '$local',
  '/lead',
  'a/b',
  'a/x',
  'a/b/c',
  'a/b/c/d',
  'a/b/c/d/e',
  'a//b',
  'home/sensors/temp',
  'home/sensors/temp/living-room',
  '$SYS/broker/uptime',
  'x/$y',
];
const filters = ['#', '+', '+/+', 'a/#', 'a/+', 'a/b/#', 'a/+/c', 'a/b/c/+', 'home/#', '+/sensors/#', '/+', 'temp', 'a/b/c', '$SYS/#', 'x/+', 'nothing/#', 'a//b', 'a/+/+/+/e'];

function retainedMatches(tree: PrefixTree<Map<string, string>>, filter: string): string[] {
  const hits: string[] = [];
  for (const { value: rows, row } of tree.candidates(filter)) {
    const ids = row === null ? [...rows.keys()] : rows.has(row) ? [row] : [];
    for (const id of ids) {
      const topic = rows.get(id)!;
      if (topicMatches(filter, topic)) hits.push(topic);
    }
  }
  return hits.sort();
}

describe('PrefixTree.candidates', () => {
  const tree = new PrefixTree<Map<string, string>>();
  for (const topic of topics) {
    const { prefix, row } = splitTopic(topic);
    let rows = tree.get(prefix);
    if (!rows) tree.set(prefix, (rows = new Map()));
    rows.set(row, topic);
  }

  it.each(filters)('finds every retained topic matching %j', (filter) => {
    const expected = topics.filter((topic) => topicMatches(filter, topic)).sort();
    expect(retainedMatches(tree, filter)).toEqual(expected);
  });

  it('does not offer tables that cannot match', () => {
    const tables = tree.candidates('home/sensors/+').map((c) => [...c.value.values()][0]);
    expect(tables).toEqual(['home/sensors/temp']);
    // `nothing/#` also matches the topic `nothing` itself, a row of the root table.
    expect(tree.candidates('nothing/#').map((c) => c.row)).toEqual(['nothing']);
    expect(tree.candidates('nothing/deeper/#')).toEqual([]);
  });

  it('names the row when the filter is literal at the row level', () => {
    expect(tree.candidates('a/b/c').map((c) => c.row)).toEqual(['c']);
  });
});
