import { describe, expect, it } from 'vitest';
import { sourceView } from '../../src/console/sourceViews.js';
import type { SourceView } from '../../src/console/web/api.js';
import { clockTime, lagText, SOURCE_COLUMNS, sourcesSummary } from '../../src/console/web/sourcesPanel.js';
import { cellsOf } from '../../src/console/web/table.js';

const view = (overrides: Partial<SourceView> = {}): SourceView => ({
  name: 'orders',
  origin: 'runtime',
  state: 'running',
  table: 'Orders',
  mode: 'event',
  topic: 'erp/{id}',
  thread: 2,
  published: 12,
  skipped: 0,
  lagMs: 0,
  position: null,
  lastChangeAt: null,
  refused: null,
  lastError: null,
  ...overrides,
});

describe('sourceView', () => {
  it('flattens a status into what the panel shows, times as epoch ms', () => {
    expect(
      sourceView({
        name: 'orders',
        origin: 'runtime',
        state: 'running',
        definition: { name: 'orders', table: 'Orders', database: 'erp', topic: 'erp/{id}', mode: 'batch' },
        thread: 4,
        position: '2026-01-02T03:04:05.000Z',
        published: 7,
        skipped: 1,
        lastChangeAt: '2026-01-02T03:04:04.000Z',
        lagMs: 250,
        caughtUp: false,
        lastError: { message: 'boom', at: '2026-01-02T03:04:06.000Z', count: 2 },
      }),
    ).toEqual({
      name: 'orders',
      origin: 'runtime',
      state: 'running',
      table: 'erp.Orders',
      mode: 'batch',
      topic: 'erp/{id}',
      thread: 4,
      published: 7,
      skipped: 1,
      lagMs: 250,
      position: Date.UTC(2026, 0, 2, 3, 4, 5),
      lastChangeAt: Date.UTC(2026, 0, 2, 3, 4, 4),
      refused: null,
      lastError: { message: 'boom', at: Date.UTC(2026, 0, 2, 3, 4, 6), count: 2 },
    });
  });

  it('defaults the mode to event, and leaves a refused entry\'s definition blank', () => {
    expect(sourceView({ name: 's', origin: 'config', state: 'starting', definition: { table: 'T', topic: 't/{id}' } })).toMatchObject({ table: 'T', mode: 'event', thread: null, published: null, lagMs: null, position: null });
    expect(sourceView({ name: 'bad', origin: 'config', state: 'refused', error: 'qos must be 0, 1 or 2' })).toMatchObject({ table: '', mode: '', topic: '', refused: 'qos must be 0, 1 or 2' });
  });
});

describe('the Sources panel', () => {
  const texts = (source: SourceView) => Object.fromEntries(SOURCE_COLUMNS.map((c, i) => [c.key, cellsOf(source, SOURCE_COLUMNS)[i]!.text]));

  it('shows a running source with its thread, counts and lag', () => {
    expect(texts(view({ lagMs: 1500 }))).toEqual({
      name: 'orders',
      table: 'Orders',
      mode: 'event',
      topic: 'erp/{id}',
      state: 'running (thread 2)',
      published: '12',
      skipped: '0',
      lag: '1.5 s',
      position: '–',
      error: '–',
    });
    expect(cellsOf(view(), SOURCE_COLUMNS)[4]).toEqual({ text: 'running (thread 2)', className: 'ok' });
  });

  it('shows why a source is refused, and the last error with how often it happened', () => {
    const refused = view({ state: 'refused', table: '', mode: '', topic: '', thread: null, published: null, skipped: null, lagMs: null, refused: 'bad qos' });
    expect(texts(refused)).toMatchObject({ state: 'refused', table: '–', published: '–', lag: '–', error: 'bad qos' });
    const failing = cellsOf(view({ lastError: { message: 'boom', at: Date.UTC(2026, 0, 2), count: 3 } }), SOURCE_COLUMNS).at(-1);
    expect(failing).toEqual({ text: 'boom (3×)', className: 'bad', title: 'last at 2026-01-02T00:00:00.000Z' });
  });

  it('reads lag and times for people', () => {
    expect([lagText(null), lagText(0), lagText(250), lagText(12_400)]).toEqual(['–', 'caught up', '0.3 s', '12 s']);
    const now = new Date(2026, 4, 6, 12, 0, 0).getTime();
    const today = new Date(2026, 4, 6, 9, 30, 0);
    expect(clockTime(today.getTime(), now)).toEqual({ text: today.toLocaleTimeString(), title: today.toISOString() });
    const earlier = new Date(2026, 4, 1, 9, 30, 0);
    expect(clockTime(earlier.getTime(), now).text).toBe(earlier.toLocaleString());
    expect(clockTime(null, now)).toEqual({ text: '–' });
  });

  it('sums up how many sources run', () => {
    expect(sourcesSummary([])).toBe('none configured');
    expect(sourcesSummary([view(), view({ name: 'b', state: 'waiting for table' })])).toBe('2, 1 running');
  });
});
