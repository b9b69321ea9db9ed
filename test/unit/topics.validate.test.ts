import { describe, expect, it } from 'vitest';
import { isSysTopic, topicFilterProblem, topicNameProblem } from '../../src/topics/validate.js';

describe('topic names', () => {
  it.each(['a', 'a/b/c', '/a', 'a/', 'a//b', '/', '$foo/bar', 'ünï/cøde', ' '])('accepts %j', (topic) => {
    expect(topicNameProblem(topic)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['a/+/b', /wildcard/],
    ['a/#', /wildcard/],
    ['a+', /wildcard/],
    ['a\u0000b', /U\+0000/],
    ['x'.repeat(65536), /65535/],
    ['é'.repeat(32768), /65535/], // 65536 UTF-8 bytes in 32768 characters
  ])('refuses %j', (topic, reason) => {
    expect(topicNameProblem(topic)).toMatch(reason);
  });

  it('accepts exactly 65535 bytes', () => {
    expect(topicNameProblem('x'.repeat(65535))).toBeNull();
  });
});

describe('topic filters', () => {
  it.each(['#', '+', '+/+', 'a/#', 'a/+/c', '+/x/#', '/#', 'a//+', '$SYS/#', 'plain/topic'])('accepts %j', (filter) => {
    expect(topicFilterProblem(filter)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['a/#/b', /'#'/],
    ['a#', /'#'/],
    ['#/', /'#'/],
    ['a+/b', /'\+'/],
    ['a/b+', /'\+'/],
    ['a/\u0000', /U\+0000/],
  ])('refuses %j', (filter, reason) => {
    expect(topicFilterProblem(filter)).toMatch(reason);
  });
});

describe('$SYS topics', () => {
  it('recognises the broker tree only', () => {
    expect(isSysTopic('$SYS')).toBe(true);
    expect(isSysTopic('$SYS/broker/uptime')).toBe(true);
    expect(isSysTopic('$SYSTEM/x')).toBe(false);
    expect(isSysTopic('a/$SYS')).toBe(false);
  });
});
