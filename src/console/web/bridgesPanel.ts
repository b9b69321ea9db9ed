// The Bridges panel's columns (docs/bridges.md) and its dead-letter list. Pure code (browser and
// unit tests).
import type { BridgeView, DeadLetterView } from './api.js';
import { clockTime } from './sourcesPanel.js';
import type { Cell, Column } from './table.js';

const dash = '–';

/** 1536 -> "1.5 KiB". */
export function byteText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** How long ago, coarsely: 860 ms -> "0.9 s", 95 s -> "1 min 35 s", 2 h -> "2 h 0 min". */
export function ageText(ms: number | null): string {
  if (ms === null) return dash;
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function connectionCell(bridge: BridgeView): Cell {
  return { text: `${bridge.connected ? 'connected' : 'disconnected'} · ${bridge.state}`, className: bridge.connected ? 'ok' : 'bad' };
}

/** Backlog: count and bytes; "at least" when the status gave up counting. */
export function pendingCell(bridge: BridgeView): Cell {
  const { messages, bytes, complete } = bridge.pending;
  if (messages === 0 && complete) return { text: '0' };
  return { text: `${complete ? '' : '≥ '}${messages} (${byteText(bytes)})`, className: 'warn' };
}

export function lastErrorCell(bridge: BridgeView): Cell {
  const error = bridge.lastError;
  if (!error) return { text: dash };
  return { text: error.message, className: 'bad', title: error.at === null ? undefined : `at ${new Date(error.at).toISOString()}` };
}

export const BRIDGE_COLUMNS: readonly Column<BridgeView>[] = [
  { key: 'name', header: 'Bridge', cell: (b) => ({ text: b.name, className: 'mono', title: b.origin === 'config' ? 'config.yaml' : 'added at runtime' }) },
  { key: 'url', header: 'Remote', cell: (b) => ({ text: b.url || dash, className: 'mono' }) },
  { key: 'state', header: 'Connection', cell: connectionCell },
  { key: 'sent', header: 'Sent', cell: (b) => String(b.sent) },
  { key: 'acknowledged', header: 'Acknowledged', cell: (b) => String(b.acknowledged) },
  { key: 'received', header: 'Received', cell: (b) => String(b.received) },
  { key: 'pending', header: 'Pending', cell: pendingCell },
  { key: 'oldest', header: 'Oldest pending', cell: (b) => ageText(b.pending.oldestAgeMs) },
  { key: 'retries', header: 'Retrying / retries', cell: (b) => `${b.retrying} / ${b.retried}` },
  { key: 'dead', header: 'Dead letters', cell: (b) => ({ text: String(b.deadLetters), className: b.deadLetters > 0 ? 'bad link' : 'link', title: 'show its dead letters' }) },
  { key: 'error', header: 'Last error', cell: lastErrorCell },
];

export const DEAD_LETTER_COLUMNS: readonly Column<DeadLetterView>[] = [
  { key: 'id', header: 'Id', cell: (d) => ({ text: d.id, className: 'mono' }) },
  { key: 'topic', header: 'Topic', cell: (d) => ({ text: d.topic, className: 'mono', title: d.remoteTopic === d.topic ? undefined : `sent as ${d.remoteTopic}` }) },
  { key: 'reason', header: 'Reason', cell: (d) => d.reason },
  { key: 'attempts', header: 'Attempts', cell: (d) => String(d.attempts) },
  { key: 'bytes', header: 'Size', cell: (d) => byteText(d.bytes) },
  { key: 'time', header: 'Dead since', cell: (d) => clockTime(d.deadAt) },
];

/** The panel's heading note: how many bridges, connected, with dead letters. */
export function bridgesSummary(bridges: readonly BridgeView[]): string {
  if (bridges.length === 0) return 'none configured';
  const connected = bridges.filter((b) => b.connected).length;
  const dead = bridges.reduce((total, b) => total + b.deadLetters, 0);
  return `${bridges.length}, ${connected} connected${dead > 0 ? `, ${dead} dead ${dead === 1 ? 'letter' : 'letters'}` : ''}`;
}
