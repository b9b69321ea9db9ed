// The $SYS updater. One worker thread (index 0) runs it: every `sysInterval` seconds it adds up
// the counters of all threads, counts sessions, tables and retained messages, and writes the values
// that changed to the `sys` table and onto the bus, where subscribers get them as retained messages.
import type { Bus } from '../bus/bus.js';
import { log } from '../harper/log.js';
import type { HarperTable } from '../harper/tables.js';
import { bridgeSysValues, type NamedBridgeStatus } from './bridgeTopics.js';
import { gatherFigures, type FigureSources } from './figures.js';
import { LoadAverage } from './load.js';
import { sysMessage, type SysRow } from './sysTable.js';
import { ChangedValues, LOADS, sysValues } from './tree.js';

export interface SysSources extends FigureSources {
  table: HarperTable<SysRow>;
  bus: Bus;
  /** The bridges' statuses, for `broker/bridges/<name>/...`. */
  bridges?: () => Promise<NamedBridgeStatus[]>;
}

export class SysUpdater {
  private readonly loads = new Map(Object.keys(LOADS).map((name) => [name, new LoadAverage()]));
  private readonly changed = new ChangedValues();
  private lastRun = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly sources: SysSources) {}

  /** Refreshes now and then every `intervalSeconds`. */
  start(intervalSeconds: number): void {
    void this.refresh(true);
    this.timer = setInterval(() => void this.refresh(false), intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** With the updater off, rows left by an earlier run would show stale numbers: remove them. */
  static clear(table: HarperTable<SysRow>): Promise<void> {
    return deleteRowsExcept(table, new Map());
  }

  private async refresh(first: boolean): Promise<void> {
    if (this.running) return; // a slow refresh is still going; skip this tick
    this.running = true;
    try {
      const now = Date.now();
      const { counters, sessions } = this.sources;
      const census = await sessions.census(now, this.sources.bootId);
      if (census.expired > 0) counters.add('clientsExpired', census.expired);
      const figures = await gatherFigures(this.sources, census, now);
      const elapsed = this.lastRun ? (now - this.lastRun) / 1000 : 0;
      for (const [name, load] of this.loads) load.update(figures.counters[LOADS[name]!], elapsed);
      this.lastRun = now;
      const values = sysValues(figures, this.loads);
      if (this.sources.bridges) for (const [id, value] of bridgeSysValues(await this.sources.bridges())) values.set(id, value);
      if (first) await deleteRowsExcept(this.sources.table, values);
      await this.clear(this.changed.vanished(values), now);
      await this.write(this.changed.take(values), now);
    } catch (error) {
      log.error('could not refresh $SYS', error);
    } finally {
      this.running = false;
    }
  }

  /** Values no longer published (a removed bridge): the row goes, and subscribers get an empty retained message, which clears it. */
  private async clear(ids: string[], now: number): Promise<void> {
    const { table, bus } = this.sources;
    for (const id of ids) {
      await table.delete(id);
      await bus.publish(sysMessage(id, '', now), false);
    }
  }

  private async write(changed: Map<string, string>, now: number): Promise<void> {
    const { table, bus } = this.sources;
    await Promise.all(
      [...changed].map(async ([id, value]) => {
        try {
          await table.put(id, { id, value, updatedAt: new Date(now) });
          await bus.publish(sysMessage(id, value, now), false);
        } catch (error) {
          this.changed.forget(id); // written again at the next refresh
          throw error;
        }
      }),
    );
  }
}

/** Rows of values no longer published (or all, with an empty map) would show stale numbers. */
async function deleteRowsExcept(table: HarperTable<SysRow>, keep: ReadonlyMap<string, string>): Promise<void> {
  for await (const row of table.search({})) if (!keep.has(row.id)) await table.delete(row.id);
}
