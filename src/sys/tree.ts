// The $SYS tree: Mosquitto 2.0's topic names and value formats, computed from the figures the
// updater gathers. Ids are the topic below `$SYS/`. Pure code, no HarperDB.
import type { CounterName } from '../stats/counters.js';
import type { FanOutReport } from '../tables/fanOut.js';
import { LOAD_PERIODS, type LoadAverage, type LoadPeriod } from './load.js';

export interface SysFigures {
  version: string;
  uptimeSeconds: number;
  /** Process-wide counter values (see Counters.total). */
  counters: Record<CounterName, number>;
  /** Stored persistent sessions with no connection. */
  clientsDisconnected: number;
  /** Subscriptions held by those sessions. */
  offlineSubscriptions: number;
  retainedMessages: number;
  topicTables: number;
  /** Table rules in force. */
  tableRules: number;
  /** Parents with more sibling topic tables than `fanOutWarning`, largest first. */
  fanOut: FanOutReport[];
  /** null when the history is off. */
  historyRows: number | null;
}

/** `$SYS/broker/load/<name>/...` averages the per-minute rate of this counter. */
export const LOADS: Readonly<Record<string, CounterName>> = {
  'messages/received': 'packetsReceived',
  'messages/sent': 'packetsSent',
  'bytes/received': 'bytesReceived',
  'bytes/sent': 'bytesSent',
  'publish/received': 'publishReceived',
  'publish/sent': 'publishSent',
  'publish/dropped': 'publishDropped',
  connections: 'connectsTotal',
  sockets: 'socketsTotal',
};

const whole = (value: number) => String(Math.max(0, Math.round(value)));

export function sysValues(figures: SysFigures, loads: ReadonlyMap<string, LoadAverage>): Map<string, string> {
  const c = figures.counters;
  const connected = c.clientsConnected;
  const values = new Map<string, string>([
    ['broker/version', figures.version],
    ['broker/uptime', `${Math.floor(figures.uptimeSeconds)} seconds`],
    ['broker/clients/connected', whole(connected)],
    ['broker/clients/disconnected', whole(figures.clientsDisconnected)],
    ['broker/clients/expired', whole(c.clientsExpired)],
    ['broker/clients/maximum', whole(Math.max(c.clientsMaximum, connected))],
    ['broker/clients/total', whole(connected + figures.clientsDisconnected)],
    ['broker/messages/received', whole(c.packetsReceived)],
    ['broker/messages/sent', whole(c.packetsSent)],
    ['broker/publish/messages/received', whole(c.publishReceived)],
    ['broker/publish/messages/sent', whole(c.publishSent)],
    ['broker/publish/messages/dropped', whole(c.publishDropped)],
    ['broker/publish/bytes/received', whole(c.publishBytesReceived)],
    ['broker/publish/bytes/sent', whole(c.publishBytesSent)],
    ['broker/bytes/received', whole(c.bytesReceived)],
    ['broker/bytes/sent', whole(c.bytesSent)],
    ['broker/subscriptions/count', whole(c.subscriptions + figures.offlineSubscriptions)],
    ['broker/retained messages/count', whole(figures.retainedMessages)],
    ['broker/store/messages/count', whole(c.storedMessages)],
    ['broker/store/messages/bytes', whole(c.storedBytes)],
  ]);
  for (const name of Object.keys(LOADS)) {
    const load = loads.get(name);
    for (const period of Object.keys(LOAD_PERIODS) as LoadPeriod[]) {
      values.set(`broker/load/${name}/${period}`, (load?.values[period] ?? 0).toFixed(2));
    }
  }
  values.set('broker/tables/count', whole(figures.topicTables));
  values.set('broker/tables/created', whole(c.tablesCreated));
  values.set('broker/tables/refused', whole(c.tablesRefused));
  values.set('broker/tables/rules', whole(figures.tableRules));
  const [largest] = figures.fanOut;
  values.set('broker/tables/fanout/count', whole(figures.fanOut.length));
  values.set('broker/tables/fanout/largest', largest ? `${largest.tables} tables under ${largest.parent}; rule: ${largest.suggestedPattern}` : 'none');
  if (figures.historyRows !== null) {
    values.set('broker/tables/history/rows', whole(figures.historyRows));
    values.set('broker/tables/history/pending', whole(c.historyPending));
  }
  return values;
}

/** Like mosquitto, only what changed since the last refresh is written and published. */
export class ChangedValues {
  private readonly last = new Map<string, string>();

  take(values: ReadonlyMap<string, string>): Map<string, string> {
    const changed = new Map<string, string>();
    for (const [id, value] of values) {
      if (this.last.get(id) === value) continue;
      this.last.set(id, value);
      changed.set(id, value);
    }
    return changed;
  }

  /** Values taken before that are gone now (a removed bridge): forgotten, and returned to be cleared. */
  vanished(values: ReadonlyMap<string, string>): string[] {
    const gone = [...this.last.keys()].filter((id) => !values.has(id));
    for (const id of gone) this.last.delete(id);
    return gone;
  }

  /** The value of `id` was not written after all. */
  forget(id: string): void {
    this.last.delete(id);
  }
}
