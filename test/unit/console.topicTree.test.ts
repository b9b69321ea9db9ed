import { describe, expect, it } from 'vitest';
import { RATE_SECONDS, TopicTree, visibleRows } from '../../src/console/web/topicTree.js';

const message = (at: number, text = 'x') => ({ payload: new TextEncoder().encode(text), retain: false, qos: 0, at });

describe('TopicTree', () => {
  it('counts messages and topics at and below each level', () => {
    const tree = new TopicTree();
    tree.record('home/kitchen/temp', message(0, 'a'));
    tree.record('home/kitchen/temp', message(0, 'b'));
    tree.record('home/hall/temp', message(0));
    tree.record('home', message(0));
    tree.record('/x', message(0));
    expect(tree.size).toBe(4);
    const home = tree.find('home')!;
    expect([home.messages, home.total, home.topics]).toEqual([1, 4, 3]);
    const temp = tree.find('home/kitchen/temp')!;
    expect([temp.messages, temp.total, temp.topics, temp.topic]).toEqual([2, 2, 1, 'home/kitchen/temp']);
    expect(new TextDecoder().decode(temp.last!.payload)).toBe('b');
    expect(tree.find('')!.children.get('x')!.topic).toBe('/x');
    expect(tree.find('home/nothing')).toBeUndefined();
  });

  it('averages the rate over RATE_SECONDS and lets it decay', () => {
    const tree = new TopicTree();
    // 10 messages a second for a minute: the average reaches 10/s.
    for (let ms = 0; ms < 60_000; ms += 100) tree.record('a/b', message(ms));
    const node = tree.find('a')!;
    expect(node.rate(60_000)).toBeCloseTo(10, 0);
    expect(node.rate(60_000 + RATE_SECONDS * 1000)).toBeCloseTo(10 / Math.E, 0);
    expect(node.rate(60_000 + 60_000)).toBeLessThan(0.01);
  });

  it('bumps its version on every message', () => {
    const tree = new TopicTree();
    const before = tree.version;
    tree.record('a', message(0));
    expect(tree.version).toBe(before + 1);
  });
});

describe('visibleRows', () => {
  const tree = new TopicTree();
  for (let i = 0; i < 10_000; i++) tree.record(`fleet/truck${String(i).padStart(5, '0')}/gps`, message(0));
  tree.record('alpha', message(0));

  it('shows only the first level until a node is opened', () => {
    const rows = visibleRows(tree, new Set(), () => 100);
    expect(rows.map((row) => row.node.topic)).toEqual(['alpha', 'fleet']);
  });

  it('shows an opened node with 10,000 children a page at a time, with a "more" row', () => {
    const rows = visibleRows(tree, new Set(['fleet']), () => 100);
    expect(rows).toHaveLength(2 + 100 + 1);
    expect(rows[2]).toMatchObject({ depth: 1 });
    expect(rows[2]!.node.topic).toBe('fleet/truck00000');
    expect(rows[102]).toMatchObject({ hidden: 9900, depth: 1 });
    expect(rows[102]!.node.topic).toBe('fleet');
    const more = visibleRows(tree, new Set(['fleet', 'fleet/truck00001']), (topic) => (topic === 'fleet' ? 300 : 100));
    expect(more).toHaveLength(2 + 300 + 1 + 1);
    expect(more[4]).toMatchObject({ depth: 2 });
    expect(more[4]!.node.topic).toBe('fleet/truck00001/gps');
  });

  it('stops at maxRows', () => {
    expect(visibleRows(tree, new Set(['fleet']), () => 100_000, 500)).toHaveLength(500);
  });
});
