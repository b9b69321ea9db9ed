// Fan-out of the one-table-per-level mapping: many sibling tables under one parent level
// (devices/d00001/, devices/d00002/, ...) mean a fleet that belongs in one table with a rule.
// Counts tables per parent, reports a parent once when it crosses the threshold, and suggests
// the rule that would fold them. Pure code, no HarperDB.
import { prefixLevels } from '../topics/naming.js';
import { COLUMN_NAME } from '../topics/patterns.js';

export interface FanOutReport {
  /** The parent prefix with `+` for the level that fans out, e.g. `devices/+/`. */
  parent: string;
  tables: number;
  /** A table rule that would hold all these topics in one table. */
  suggestedPattern: string;
}

/** `devices` -> `device`; anything that is not a plain name -> `id`. */
function columnNameFor(level: string): string {
  const singular = level.length > 3 && level.endsWith('s') ? level.slice(0, -1) : level;
  return COLUMN_NAME.test(singular) && singular !== level ? singular : COLUMN_NAME.test(level + '_id') ? `${level}_id` : 'id';
}

export class FanOut {
  private readonly counts = new Map<string, number>();
  private readonly reported = new Set<string>();

  constructor(private readonly threshold: number) {}

  /** Records a table for `prefix`; returns a report the first time its parent crosses the threshold. */
  add(prefix: string): FanOutReport | null {
    const levels = prefixLevels(prefix);
    if (levels.length === 0) return null;
    const parentLevels = levels.slice(0, -1);
    const parent = parentLevels.map((level) => level + '/').join('');
    const tables = (this.counts.get(parent) ?? 0) + 1;
    this.counts.set(parent, tables);
    if (this.threshold <= 0 || tables < this.threshold || this.reported.has(parent)) return null;
    this.reported.add(parent);
    return this.report(parent, tables);
  }

  /** Parents at or over the threshold, largest first. */
  over(): FanOutReport[] {
    if (this.threshold <= 0) return [];
    return [...this.counts]
      .filter(([, tables]) => tables >= this.threshold)
      .sort((a, b) => b[1] - a[1])
      .map(([parent, tables]) => this.report(parent, tables));
  }

  private report(parent: string, tables: number): FanOutReport {
    const levels = prefixLevels(parent);
    const last = levels[levels.length - 1];
    const name = last === undefined ? 'id' : columnNameFor(last);
    return { parent: `${parent}+/`, tables, suggestedPattern: `${parent}+${name}/#rest` };
  }
}
