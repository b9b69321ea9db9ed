// Every labelled metric named with its prefix, typed by its name, and in docs/metrics.md's tables.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { LabelledMetric } from '../../src/metrics/exposition.js';

export function expectDocumented(metrics: readonly LabelledMetric<never>[], prefix: string): void {
  const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
  for (const metric of metrics) {
    expect(metric.name).toMatch(new RegExp(`^${prefix}[a-z_]+$`));
    expect(metric.type).toBe(metric.name.endsWith('_total') ? 'counter' : 'gauge');
    expect(doc).toMatch(new RegExp(`\\| \`${metric.name}\` \\| ${metric.type} \\|`));
  }
}
