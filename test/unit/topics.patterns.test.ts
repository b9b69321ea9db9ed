import { describe, expect, it } from 'vitest';
import { compareSpecificity, filterOverlap, matchPattern, parsePattern, PatternError, patternFilter } from '../../src/topics/patterns.js';
import { topicMatches } from '../../src/topics/match.js';

const fleet = parsePattern('org/+org/devices/+device/+metric');

describe('parsePattern', () => {
  it('reads named and unnamed wildcards', () => {
    expect(fleet.names).toEqual(['org', 'device', 'metric']);
    expect(patternFilter(fleet)).toBe('org/+/devices/+/+');
    expect(parsePattern('+org/devices/#rest').names).toEqual(['org', 'rest']);
    expect(patternFilter(parsePattern('sensors/+/#'))).toBe('sensors/+/#');
  });

  it.each([
    ['', /non-empty/],
    ['plain/topic', /needs at least one wildcard/],
    ['a/#rest/b', /must be the last level/],
    ['a/+1x', /level name must be letters/],
    ['a/+x/+x', /"x" names two levels/],
    ['a/b+/c', /'\+' must be a whole level/],
  ])('refuses %j', (source, message) => {
    expect(() => parsePattern(source)).toThrow(PatternError);
    expect(() => parsePattern(source)).toThrow(message);
  });
});

describe('matchPattern', () => {
  it('captures the named levels of a matching topic', () => {
    expect(matchPattern(fleet, 'org/acme/devices/d04242/temp')).toEqual({ org: 'acme', device: 'd04242', metric: 'temp' });
  });

  it('captures what a trailing #name covers, also nothing', () => {
    const pattern = parsePattern('+site/logs/#path');
    expect(matchPattern(pattern, 'plant1/logs/a/b/c')).toEqual({ site: 'plant1', path: 'a/b/c' });
    expect(matchPattern(pattern, 'plant1/logs')).toEqual({ site: 'plant1', path: '' });
  });

  it.each(['org/acme/devices/d1', 'org/acme/devices/d1/temp/x', 'org/acme/gateways/d1/temp', 'other/acme/devices/d1/temp'])('does not match %j', (topic) => {
    expect(matchPattern(fleet, topic)).toBeNull();
  });

  it('agrees with topic filter matching, and keeps wildcards away from $ topics', () => {
    const pattern = parsePattern('+a/+b');
    for (const topic of ['x/y', '$SYS/y', 'x/y/z', 'x', '/y', 'x/']) {
      expect(matchPattern(pattern, topic) !== null).toBe(topicMatches('+/+', topic));
    }
  });
});

describe('compareSpecificity', () => {
  it('prefers literals to +, + to #, and longer to shorter', () => {
    const ordered = ['org/acme/devices/+device/+metric', 'org/+org/devices/+device/+metric', 'org/+org/devices/#rest', 'org/#rest', '#all'].map(parsePattern);
    const shuffled = [...ordered].reverse().sort(compareSpecificity);
    expect(shuffled.map((p) => p.source)).toEqual(ordered.map((p) => p.source));
    expect(compareSpecificity(parsePattern('a/+x'), parsePattern('a/+y'))).toBe(0);
  });
});

describe('filterOverlap', () => {
  it('pins named levels that the filter fixes', () => {
    expect(filterOverlap(fleet, 'org/acme/devices/+/temp')).toEqual({ equal: { org: 'acme', metric: 'temp' } });
    expect(filterOverlap(fleet, 'org/+/devices/d7/#')).toEqual({ equal: { device: 'd7' } });
    expect(filterOverlap(fleet, '#')).toEqual({ equal: {} });
    expect(filterOverlap(fleet, '+/+/+/+/temp')).toEqual({ equal: { metric: 'temp' } });
  });

  it.each(['org/acme/gateways/#', 'org/+/devices/+', 'org/+/devices/+/+/+', 'home/#', '$SYS/#'])('rules out %j', (filter) => {
    expect(filterOverlap(fleet, filter)).toBeNull();
  });

  it('never rules out a topic both match', () => {
    const patterns = ['a/+x', 'a/#r', '+x/b/#r', '+x/+y'].map(parsePattern);
    const filters = ['#', 'a/#', 'a/+', '+/b', 'a/b', 'a/b/c', '+/+/+', 'a'];
    const topics = ['a', 'a/b', 'a/b/c', 'x/b', 'x/b/c', 'a/c'];
    for (const pattern of patterns)
      for (const filter of filters)
        for (const topic of topics) {
          const captured = matchPattern(pattern, topic);
          if (!captured || !topicMatches(filter, topic)) continue;
          const overlap = filterOverlap(pattern, filter);
          expect(overlap, `${pattern.source} / ${filter} / ${topic}`).not.toBeNull();
          for (const [name, value] of Object.entries(overlap!.equal)) expect(captured[name]).toBe(value);
        }
  });
});
