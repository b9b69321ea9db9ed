// Topic patterns of table rules: `org/+org/devices/+device/+metric` is an MQTT filter whose
// wildcards may carry a column name (`+device`, and a trailing `#rest`). Every topic the pattern
// matches is a row of one table, with the named levels as columns. Pure code, no HarperDB.
import { topicFilterProblem } from './validate.js';

export type PatternLevel = { kind: 'literal'; value: string } | { kind: 'single'; name: string | null } | { kind: 'multi'; name: string | null };

export interface TopicPattern {
  /** As written in the rule. */
  readonly source: string;
  readonly levels: readonly PatternLevel[];
  /** Column names the pattern fills, in level order. */
  readonly names: readonly string[];
}

export class PatternError extends Error {
  override name = 'PatternError';
}

/** Column names: letters, digits and underscores, starting with a letter (also valid HarperDB attributes). */
export const COLUMN_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

export function parsePattern(source: string): TopicPattern {
  if (typeof source !== 'string' || source === '') throw new PatternError('a pattern must be a non-empty topic filter');
  const levels: PatternLevel[] = [];
  const names: string[] = [];
  const plain = source
    .split('/')
    .map((level, i, all) => {
      const wildcard = level[0];
      if (wildcard !== '+' && wildcard !== '#') {
        levels.push({ kind: 'literal', value: level });
        return level;
      }
      const name = level.length > 1 ? level.slice(1) : null;
      if (name !== null) {
        if (!COLUMN_NAME.test(name)) throw new PatternError(`"${level}": a level name must be letters, digits and _ , starting with a letter`);
        if (names.includes(name)) throw new PatternError(`"${name}" names two levels`);
        names.push(name);
      }
      if (wildcard === '#' && i !== all.length - 1) throw new PatternError(`"${level}" must be the last level`);
      levels.push(wildcard === '+' ? { kind: 'single', name } : { kind: 'multi', name });
      return wildcard;
    })
    .join('/');
  const problem = topicFilterProblem(plain);
  if (problem) throw new PatternError(problem);
  if (levels.every((level) => level.kind === 'literal')) throw new PatternError('a pattern needs at least one wildcard (+ or #); a single topic needs no rule');
  return { source, levels, names };
}

/** The MQTT filter a pattern matches, names removed: `org/+org/#rest` -> `org/+/#`. */
export function patternFilter(pattern: TopicPattern): string {
  return pattern.levels.map((level) => (level.kind === 'literal' ? level.value : level.kind === 'single' ? '+' : '#')).join('/');
}

/**
 * The named levels of `topic` when the pattern matches it, else null. A trailing `#name` captures
 * the remaining levels joined by '/' ('' when the topic ends at the parent level).
 * Wildcards at the first level do not match `$` topics [MQTT-4.7.2-1].
 */
export function matchPattern(pattern: TopicPattern, topic: string): Record<string, string> | null {
  const parts = topic.split('/');
  const { levels } = pattern;
  if (topic.charCodeAt(0) === 36 /* $ */ && levels[0]!.kind !== 'literal') return null;
  const captured: Record<string, string> = {};
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.kind === 'multi') {
      if (level.name) captured[level.name] = parts.slice(i).join('/');
      return captured;
    }
    if (i >= parts.length) return null;
    if (level.kind === 'literal') {
      if (level.value !== parts[i]) return null;
    } else if (level.name) captured[level.name] = parts[i]!;
  }
  return parts.length === levels.length ? captured : null;
}

/**
 * Negative when `a` is more specific than `b`: compared level by level, a literal beats `+`, which
 * beats `#`; a longer pattern beats a shorter one that is otherwise equal. 0 when equally specific.
 */
export function compareSpecificity(a: TopicPattern, b: TopicPattern): number {
  const rank = (level: PatternLevel | undefined) => (level === undefined ? 3 : level.kind === 'literal' ? 0 : level.kind === 'single' ? 1 : 2);
  const length = Math.max(a.levels.length, b.levels.length);
  for (let i = 0; i < length; i++) {
    const difference = rank(a.levels[i]) - rank(b.levels[i]);
    if (difference !== 0) return difference;
  }
  return 0;
}

export interface FilterOverlap {
  /** Named levels the filter fixes to a value: usable as equality conditions in a table search. */
  equal: Record<string, string>;
}

/**
 * Whether topics matching `filter` can also match `pattern`, and which named levels the filter
 * pins down. Conservative: a non-null answer may still include rows the filter does not match, so
 * callers check each row with topicMatches.
 */
export function filterOverlap(pattern: TopicPattern, filter: string): FilterOverlap | null {
  const parts = filter.split('/');
  const { levels } = pattern;
  const equal: Record<string, string> = {};
  if (filter.charCodeAt(0) === 36 /* $ */ && levels[0]!.kind !== 'literal') return null;
  for (let i = 0; ; i++) {
    const level = levels[i];
    const part = parts[i];
    if (part === '#' || level?.kind === 'multi') return { equal };
    if (level === undefined || part === undefined) return level === undefined && part === undefined ? { equal } : null;
    if (part === '+') continue;
    if (level.kind === 'literal') {
      if (level.value !== part) return null;
    } else if (level.name) equal[level.name] = part;
  }
}
