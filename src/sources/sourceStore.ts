// The sources in force: those of config.yaml, then those added at runtime over REST, kept in
// `mqtt_sources` so that every worker thread and every restart has them. Every thread follows that
// table. A bad entry is refused on its own, with its reason; the others run.
import { log } from '../harper/log.js';
import { ensureTable, type HarperTable, type TableEvent } from '../harper/tables.js';
import { parseSource, SourceError, type SourceDefinition } from './definition.js';
import type { Positions } from './positions.js';

export const SOURCES_TABLE = 'mqtt_sources';

interface StoredSource {
  id: string;
  /** The definition as posted, as JSON text (kept exactly as given). */
  spec: string;
  createdAt: Date;
  createdBy: string;
}

export type Origin = 'config' | 'runtime';

export interface Refused {
  name: string;
  origin: Origin;
  error: string;
}

export class SourceStore {
  private runtime: SourceDefinition[] = [];
  private runtimeRefused: Refused[] = [];
  private readonly createdBy = new Map<string, { createdAt: Date; createdBy: string }>();
  private readonly listeners: Array<() => void> = [];

  private constructor(
    private readonly configured: readonly SourceDefinition[],
    private readonly configRefused: readonly Refused[],
    private readonly stored: HarperTable<StoredSource>,
    private readonly positions: Positions,
    private readonly database: string,
  ) {}

  static async open(database: string, configured: { sources: SourceDefinition[]; refused: Array<{ name: string; error: string }> }, positions: Positions): Promise<SourceStore> {
    const stored = await ensureTable<StoredSource>({
      database,
      table: SOURCES_TABLE,
      attributes: [
        { name: 'id', type: 'String', isPrimaryKey: true },
        { name: 'spec', type: 'String' },
        { name: 'createdAt', type: 'Date' },
        { name: 'createdBy', type: 'String' },
      ],
      audit: true, // other threads follow its changes
    });
    const refused = configured.refused.map((r) => ({ ...r, origin: 'config' as const }));
    const store = new SourceStore(configured.sources, refused, stored, positions, database);
    const changes = await stored.subscribe({ isCollection: true, omitCurrent: true });
    changes.on('data', (event: TableEvent<StoredSource>) => {
      if (event.type === 'put' || event.type === 'delete') store.reload().catch((error) => log.error('could not apply changed sources', error));
    });
    await store.reload();
    return store;
  }

  /** Every source that runs (or waits for its table). */
  all(): SourceDefinition[] {
    return [...this.configured, ...this.runtime];
  }

  refused(): Refused[] {
    return [...this.configRefused, ...this.runtimeRefused];
  }

  originOf(name: string): Origin | null {
    if (this.configured.some((s) => s.name === name) || this.configRefused.some((r) => r.name === name)) return 'config';
    if (this.runtime.some((s) => s.name === name) || this.runtimeRefused.some((r) => r.name === name)) return 'runtime';
    return null;
  }

  addedBy(name: string): { createdAt: Date; createdBy: string } | undefined {
    return this.createdBy.get(name);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Adds a runtime source, or replaces the runtime source of the same name (keeping its position
   * unless the new definition says `from`). SourceError says what is wrong.
   */
  async add(raw: unknown, createdBy: string): Promise<SourceDefinition> {
    const source = parseSource(raw, 'source', this.database);
    if (this.originOf(source.name) === 'config') throw new SourceError(`source ${source.name} is defined in config.yaml; change it there`);
    const replacing = this.runtime.some((s) => s.name === source.name);
    // The position first: whichever thread starts the source finds where it starts.
    if (!replacing || source.spec.from !== undefined) {
      await this.positions.save({ id: source.name, position: source.from === 'now' ? Date.now() : source.from, changeTime: 0, published: 0, skipped: 0, updatedAt: Date.now() });
    }
    await this.stored.put(source.name, { id: source.name, spec: JSON.stringify(source.spec), createdAt: new Date(), createdBy });
    await this.reload();
    return source;
  }

  /** Removes a runtime source and its position. False when there is no such runtime source. */
  async remove(name: string): Promise<boolean> {
    if (this.originOf(name) === 'config') throw new SourceError(`source ${name} is defined in config.yaml; remove it there`);
    if (this.originOf(name) !== 'runtime') return false;
    await this.stored.delete(name);
    await this.reload();
    return true;
  }

  /** Positions of sources that are no longer configured anywhere: a source added again starts afresh. */
  async forgetRemoved(): Promise<number> {
    const known = new Set([...this.all().map((s) => s.name), ...this.refused().map((r) => r.name)]);
    return this.positions.forgetAllBut(known);
  }

  private async reload(): Promise<void> {
    const runtime: SourceDefinition[] = [];
    const refused: Refused[] = [];
    this.createdBy.clear();
    for await (const row of this.stored.search({})) {
      const name = String(row.id);
      this.createdBy.set(name, { createdAt: row.createdAt, createdBy: row.createdBy });
      try {
        runtime.push(parseSource(JSON.parse(row.spec), `${SOURCES_TABLE} ${name}`, this.database));
      } catch (error) {
        refused.push({ name, origin: 'runtime', error: (error as Error).message });
      }
    }
    this.runtime = runtime;
    this.runtimeRefused = refused;
    for (const listener of this.listeners) listener();
  }
}
