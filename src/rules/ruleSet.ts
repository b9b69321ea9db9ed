// Which rule, if any, owns a topic. The most specific pattern wins (compared level by level: a
// literal beats `+`, `+` beats `#`); between equally specific patterns, the one listed first
// (config.yaml before rules added at runtime, each in order). Pure code, no HarperDB.
import { compareSpecificity, filterOverlap, matchPattern, type FilterOverlap } from '../topics/patterns.js';
import type { TopicRule } from './rule.js';

export interface RuleMatch {
  rule: TopicRule;
  /** The topic's named levels. */
  levels: Record<string, string>;
}

export class RuleSet {
  /** In precedence order. */
  readonly rules: readonly TopicRule[];

  constructor(rules: readonly TopicRule[]) {
    // Array.prototype.sort is stable: equally specific rules keep their listed order.
    this.rules = [...rules].sort((a, b) => compareSpecificity(a.pattern, b.pattern));
  }

  get size(): number {
    return this.rules.length;
  }

  match(topic: string): RuleMatch | null {
    for (const rule of this.rules) {
      const levels = matchPattern(rule.pattern, topic);
      if (levels) return { rule, levels };
    }
    return null;
  }

  /** Rules whose topics a subscription to `filter` could receive, with the levels it pins. */
  overlapping(filter: string): Array<{ rule: TopicRule; overlap: FilterOverlap }> {
    const found: Array<{ rule: TopicRule; overlap: FilterOverlap }> = [];
    for (const rule of this.rules) {
      const overlap = filterOverlap(rule.pattern, filter);
      if (overlap) found.push({ rule, overlap });
    }
    return found;
  }
}
