// Gathers the broker's figures (SysFigures) for one moment: the counters of every thread from
// shared memory, and the counts of sessions, tables, retained messages and history rows. The $SYS
// updater and the Prometheus endpoint both read them here, so both report the same numbers.
import type { History } from '../history/store.js';
import type { RetainedStore } from '../retained.js';
import type { RuleStore } from '../rules/ruleStore.js';
import type { SessionCensus, SessionStore } from '../session/store.js';
import { COUNTER_NAMES, type CounterName, type Counters } from '../stats/counters.js';
import type { TopicRegistry } from '../tables/registry.js';
import type { SysFigures } from './tree.js';

export interface FigureSources {
  registry: TopicRegistry;
  retained: RetainedStore;
  rules: RuleStore;
  sessions: SessionStore;
  history: History | null;
  counters: Counters;
  version: string;
  bootId: string;
}

/** The process-wide value of every counter (see Counters.total). */
function counterTotals(counters: Counters, now: number): Record<CounterName, number> {
  return Object.fromEntries(COUNTER_NAMES.map((name) => [name, counters.total(name, now)])) as Record<CounterName, number>;
}

/** `census`: the stored sessions as SessionStore.census counted them. */
export async function gatherFigures(sources: FigureSources, census: SessionCensus, now: number): Promise<SysFigures> {
  const { counters, registry, retained, rules, history } = sources;
  // Counted over a few event-loop turns (one row per retained message); the rest at one moment.
  const retainedMessages = await retained.count();
  return {
    version: sources.version,
    uptimeSeconds: process.uptime(),
    counters: counterTotals(counters, now),
    clientsDisconnected: census.disconnected,
    offlineSubscriptions: census.subscriptions,
    retainedMessages,
    topicTables: registry.size,
    tableRules: rules.current.size,
    fanOut: registry.fanOutReports(),
    historyRows: history?.rowCount() ?? null,
  };
}

/** Figures for a reader (the metrics endpoint): counts the stored sessions without expiring any. */
export async function readFigures(sources: FigureSources, now = Date.now()): Promise<SysFigures> {
  const census = await sources.sessions.census(now, sources.bootId, false);
  return gatherFigures(sources, census, now);
}
