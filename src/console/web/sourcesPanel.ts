// The Sources panel's columns: what each source publishes and how it is doing (docs/sources.md).
// Pure code (browser and unit tests).
import type { SourceView } from './api.js';
import type { Cell, Column } from './table.js';

const dash = '–';

/** A time as the local clock reads it, with the date when it is not today. */
export function clockTime(ms: number | null, now = Date.now()): Cell {
  if (ms === null || ms === 0) return { text: dash };
  const at = new Date(ms);
  const today = at.toDateString() === new Date(now).toDateString();
  return { text: today ? at.toLocaleTimeString() : at.toLocaleString(), title: at.toISOString() };
}

/** Lag of a running source; other states have none. */
export function lagText(lagMs: number | null): string {
  if (lagMs === null) return dash;
  if (lagMs === 0) return 'caught up';
  return lagMs < 10_000 ? `${(lagMs / 1000).toFixed(1)} s` : `${Math.round(lagMs / 1000)} s`;
}

export function stateCell(source: SourceView): Cell {
  if (source.state === 'running') return { text: source.thread === null ? 'running' : `running (thread ${source.thread})`, className: 'ok' };
  return { text: source.state, className: source.state === 'refused' ? 'bad' : '' };
}

export function problemCell(source: SourceView): Cell {
  if (source.refused !== null) return { text: source.refused, className: 'bad' };
  const error = source.lastError;
  if (!error) return { text: dash };
  return { text: `${error.message}${error.count > 1 ? ` (${error.count}×)` : ''}`, className: 'bad', title: `last at ${new Date(error.at).toISOString()}` };
}

const count = (value: number | null) => (value === null ? dash : String(value));

export const SOURCE_COLUMNS: readonly Column<SourceView>[] = [
  { key: 'name', header: 'Source', cell: (s) => ({ text: s.name, className: 'mono', title: `${s.origin === 'config' ? 'config.yaml' : 'added at runtime'}` }) },
  { key: 'table', header: 'Table', cell: (s) => s.table || dash },
  { key: 'mode', header: 'Mode', cell: (s) => s.mode || dash },
  { key: 'topic', header: 'Topic', cell: (s) => ({ text: s.topic || dash, className: 'mono' }) },
  { key: 'state', header: 'State', cell: stateCell },
  { key: 'published', header: 'Published', cell: (s) => count(s.published) },
  { key: 'skipped', header: 'Skipped', cell: (s) => count(s.skipped) },
  { key: 'lag', header: 'Lag', cell: (s) => lagText(s.lagMs) },
  { key: 'position', header: 'Position', cell: (s) => clockTime(s.position) },
  { key: 'error', header: 'Last error', cell: problemCell },
];

/** The panel's heading note: how many sources, how many run. */
export function sourcesSummary(sources: readonly SourceView[]): string {
  if (sources.length === 0) return 'none configured';
  const running = sources.filter((s) => s.state === 'running').length;
  return `${sources.length}, ${running} running`;
}
