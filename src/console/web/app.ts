// The console page: MQTT over WebSocket to this broker for live topics and $SYS, REST for the
// clients, sources, bridges, retained rows and history. Everything a user sends is shown through textContent, never
// as HTML. Drawing runs on a timer and touches only the visible rows.
import type { BridgeView, ClientList, ClientSummary, DeadLetterView, MessageView, ReplayAnswer, RetainedView, SourceView } from './api.js';
import { BRIDGE_COLUMNS, bridgesSummary, DEAD_LETTER_COLUMNS } from './bridgesPanel.js';
import { fromBase64, previewPayload, viewPayload } from './payload.js';
import { GaugeSeries, polylinePoints, RateSeries, shortNumber, type Series } from './series.js';
import { SOURCE_COLUMNS, sourcesSummary } from './sourcesPanel.js';
import { drawTable, getJson, poll, postJson, type Column } from './table.js';
import { TopicTree, visibleRows, type TopicNode } from './topicTree.js';

const BASE = '/mqtt-console';
const PER_LEVEL = 100;
const DRAW_MS = 250;
const CLIENTS_MS = 3000;
const SOURCES_MS = 2000;
const BRIDGES_MS = 2000;
/** Charts show at most this much time, at least MIN_SPAN_MS (so a fresh page fills its charts). */
const CHART_SPAN_MS = 2 * 60_000;
const MIN_SPAN_MS = 20_000;

const element = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
};

function make<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

const setText = (target: Element, text: string) => {
  if (target.textContent !== text) target.textContent = text;
};

const time = (ms: number) => new Date(ms).toLocaleTimeString();

// ---- state ----

const tree = new TopicTree();
const expanded = new Set<string>();
const perLevel = new Map<string, number>();
let selected: string | null = null;
let paused = false;
let drawnVersion = -1;
let lastFullDraw = 0;
let detailShown: { topic: string; messages: number } | null = null;

// ---- MQTT ----

const clientId = `mqtt-console-${Math.random().toString(16).slice(2, 10)}`;
// Below the page's path, where the browser sends the Basic credentials the page was loaded with.
const client = mqtt.connect(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${BASE}/ws`, {
  clientId,
  clean: true,
  reconnectPeriod: 3000,
  protocolVersion: 4,
});
let watching = (element<HTMLInputElement>('watch-filter').value || '#').trim();

const status = element('status');
client.on('connect', () => {
  setText(status, 'connected');
  status.className = 'ok';
  client.subscribe([watching, '$SYS/broker/#'], { qos: 0 });
});
client.on('close', () => {
  setText(status, 'disconnected');
  status.className = 'bad';
});
client.on('error', (error) => {
  setText(status, `error: ${error.message}`);
  status.className = 'bad';
});
client.on('message', (topic, payload, packet) => {
  if (topic.startsWith('$SYS/')) return sysValue(topic.slice(5), payload);
  if (paused) return;
  tree.record(topic, { payload: new Uint8Array(payload), retain: packet.retain, qos: packet.qos, at: Date.now() });
  if (topic === selected) followHistory();
});

element<HTMLFormElement>('watch-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const filter = element<HTMLInputElement>('watch-filter').value.trim() || '#';
  if (filter === watching) return;
  client.unsubscribe(watching);
  watching = filter;
  client.subscribe(filter, { qos: 0 });
});

const pause = element<HTMLButtonElement>('pause');
pause.addEventListener('click', () => {
  paused = !paused;
  setText(pause, paused ? 'Resume' : 'Pause');
});

// ---- $SYS charts ----

interface Chart {
  id: string;
  series: Array<{ topic: string; data: Series }>;
  unit: string;
}

const charts: Chart[] = [
  {
    id: 'chart-messages',
    unit: 'msg/s',
    series: [
      { topic: 'broker/publish/messages/received', data: new RateSeries() },
      { topic: 'broker/publish/messages/sent', data: new RateSeries() },
    ],
  },
  {
    id: 'chart-bytes',
    unit: 'B/s',
    series: [
      { topic: 'broker/bytes/received', data: new RateSeries() },
      { topic: 'broker/bytes/sent', data: new RateSeries() },
    ],
  },
  { id: 'chart-clients', unit: 'clients', series: [{ topic: 'broker/clients/connected', data: new GaugeSeries() }] },
];

const sys = new Map<string, string>();
let sampleTimer: ReturnType<typeof setTimeout> | undefined;

/** $SYS sends only what changed, a burst per refresh: one sample per burst. */
function sysValue(id: string, payload: Uint8Array): void {
  sys.set(id, new TextDecoder().decode(payload));
  sampleTimer ??= setTimeout(sample, 200);
}

function sample(): void {
  sampleTimer = undefined;
  const now = Date.now();
  for (const chart of charts) {
    for (const { topic, data } of chart.series) {
      const value = Number(sys.get(topic));
      if (Number.isFinite(value)) data.push(now, value);
    }
    drawChart(chart);
  }
  const figure = (id: string) => sys.get(id) ?? '–';
  setText(element('sys-version'), figure('broker/version'));
  setText(element('sys-uptime'), figure('broker/uptime'));
  setText(element('sys-clients'), figure('broker/clients/connected'));
  setText(element('sys-retained'), figure('broker/retained messages/count'));
  setText(element('sys-tables'), figure('broker/tables/count'));
  setText(element('sys-subscriptions'), figure('broker/subscriptions/count'));
  // Many sibling topic tables under one level: say which, and the rule that would fold them.
  const fanOut = element('sys-fanout');
  const widest = sys.get('broker/tables/fanout/largest');
  fanOut.hidden = !(Number(sys.get('broker/tables/fanout/count')) > 0 && widest && widest !== 'none');
  if (!fanOut.hidden) setText(fanOut, `Fan-out: ${widest} (docs/topics-and-tables.md, "Table rules")`);
}

function drawChart(chart: Chart): void {
  const svg = element(chart.id);
  const [, , width, height] = svg.getAttribute('viewBox')!.split(' ').map(Number);
  // Both lines of a chart against the larger maximum, with some room above it.
  const top = 1.15 * Math.max(...chart.series.flatMap(({ data }) => data.points.map((p) => p.v)), 1);
  const now = Date.now();
  const first = Math.min(...chart.series.map(({ data }) => data.points[0]?.t ?? now));
  const box = { width: width!, height: height!, span: Math.min(CHART_SPAN_MS, Math.max(MIN_SPAN_MS, now - first)), end: now, top };
  const lines = svg.querySelectorAll('polyline');
  chart.series.forEach(({ data }, i) => lines[i]?.setAttribute('points', polylinePoints(data.points, box)));
  const label = chart.series.map(({ data }) => (data.latest === undefined ? '–' : shortNumber(data.latest))).join(' / ');
  setText(element(`${chart.id}-value`), `${label} ${chart.unit}`);
}

// ---- topic tree ----

const treeElement = element('tree');

/** A row element with fixed parts; rows are reused by position so a click never lands on a replaced element. */
function treeRow(): HTMLElement {
  const row = make('div', 'row');
  row.append(make('span', 'twisty'), make('span', 'name'), make('span', 'rate'), make('span', 'count'), make('span', 'preview'));
  return row;
}

function drawTree(): void {
  const now = Date.now();
  // Rates decay while nothing arrives: redraw once a second regardless.
  if (tree.version === drawnVersion && now - lastFullDraw < 1000) return;
  drawnVersion = tree.version;
  lastFullDraw = now;
  const rows = visibleRows(tree, expanded, (topic) => perLevel.get(topic) ?? PER_LEVEL);
  while (treeElement.children.length < rows.length) treeElement.append(treeRow());
  while (treeElement.children.length > rows.length) treeElement.lastElementChild!.remove();
  rows.forEach(({ node, depth, hidden }, i) => {
    const row = treeElement.children[i] as HTMLElement;
    const [twisty, name, rate, count, preview] = Array.from(row.children);
    row.style.paddingLeft = `${depth * 16 + 4}px`;
    if (hidden !== undefined) {
      row.dataset.topic = '';
      row.dataset.more = node.topic;
      row.className = 'row more';
      setText(twisty!, '');
      setText(name!, `… ${hidden} more`);
      for (const part of [rate!, count!, preview!]) setText(part, '');
      return;
    }
    row.dataset.topic = node.topic;
    delete row.dataset.more;
    row.className = 'row' + (node.topic === selected ? ' selected' : '');
    setText(twisty!, node.children.size === 0 ? '' : expanded.has(node.topic) ? '▾' : '▸');
    setText(name!, node.name === '' ? '(empty)' : node.name);
    setText(rate!, `${node.rate(now).toFixed(1)}/s`);
    const messages = `${node.total} ${node.total === 1 ? 'msg' : 'msgs'}`;
    setText(count!, node.children.size > 0 ? `${node.topics} ${node.topics === 1 ? 'topic' : 'topics'}, ${messages}` : messages);
    setText(preview!, node.last ? previewPayload(node.last.payload) : '');
  });
  setText(element('topic-count'), `${tree.size} ${tree.size === 1 ? 'topic' : 'topics'}`);
}

treeElement.addEventListener('click', (event) => {
  const row = (event.target as HTMLElement).closest<HTMLElement>('.row');
  if (!row) return;
  if (row.dataset.more !== undefined) {
    const parent = row.dataset.more;
    perLevel.set(parent, (perLevel.get(parent) ?? PER_LEVEL) + PER_LEVEL);
  } else {
    const topic = row.dataset.topic!;
    const node = tree.find(topic);
    // A click opens a node; only its arrow closes it again.
    if (node && node.children.size > 0) {
      if (!expanded.has(topic)) expanded.add(topic);
      else if ((event.target as HTMLElement).classList.contains('twisty')) expanded.delete(topic);
    }
    select(topic);
  }
  drawnVersion = -1;
  drawTree();
});

// ---- the selected topic ----

function select(topic: string): void {
  if (selected !== topic) {
    selected = topic;
    detailShown = null;
    element<HTMLInputElement>('publish-topic').value ||= topic;
    void loadRetained(topic);
    void loadHistory(topic);
    const last = tree.find(topic)?.last;
    if (last && Date.now() - last.at < HISTORY_FOLLOW_MS) followHistory();
  }
  drawDetail();
}

function payloadBlock(bytes: Uint8Array): HTMLElement {
  const view = viewPayload(bytes);
  const block = make('div', 'payload');
  block.append(make('span', `kind ${view.kind}`, view.kind + (view.omitted ? `, ${view.omitted} bytes more` : '')), make('pre', undefined, view.text));
  return block;
}

function drawDetail(): void {
  if (selected === null) return;
  const node: TopicNode | undefined = tree.find(selected);
  setText(element('detail-topic'), selected);
  const meta = node ? `${node.messages} messages here, ${node.total} at or below · ${node.rate(Date.now()).toFixed(2)}/s` : '';
  setText(element('detail-meta'), meta);
  if (detailShown?.topic === selected && detailShown.messages === (node?.messages ?? 0)) return;
  detailShown = { topic: selected, messages: node?.messages ?? 0 };
  const last = element('detail-last');
  last.replaceChildren();
  if (node?.last) {
    last.append(make('div', 'when', `${time(node.last.at)} · QoS ${node.last.qos}${node.last.retain ? ' · retained' : ''} · ${node.last.payload.length} bytes`), payloadBlock(node.last.payload));
  } else {
    last.append(make('div', 'when', 'no message on this exact topic since the page opened'));
  }
}

function rowItem(row: MessageView): HTMLElement {
  const item = make('div', 'message');
  item.append(make('div', 'when', `${time(row.timestamp)} · ${row.topic} · QoS ${row.qos} · from ${row.clientId || '–'}`), payloadBlock(fromBase64(row.data)));
  return item;
}

async function loadRetained(topic: string): Promise<void> {
  const target = element('retained');
  target.replaceChildren(make('div', 'when', 'loading…'));
  try {
    const answer = (await getJson(`${BASE}/api/retained?topic=${encodeURIComponent(topic)}`)) as RetainedView;
    if (selected !== topic) return;
    const rows = [...(answer.row ? [answer.row] : []), ...answer.children];
    target.replaceChildren(...rows.map(rowItem));
    if (rows.length === 0) target.replaceChildren(make('div', 'when', 'no retained message on this topic or one level below'));
  } catch (error) {
    target.replaceChildren(make('div', 'bad', `could not load: ${(error as Error).message}`));
  }
}

/**
 * The history is written behind delivery, within about a second (docs/rest.md): a message of the
 * selected topic that arrived in the last HISTORY_FOLLOW_MS reloads its history once that has
 * passed, at most once per HISTORY_FOLLOW_MS.
 */
const HISTORY_FOLLOW_MS = 1200;
let historyFollow: ReturnType<typeof setTimeout> | undefined;

/** Reloads the history of the topic selected then (one reload, however many messages come meanwhile). */
function followHistory(): void {
  historyFollow ??= setTimeout(() => {
    historyFollow = undefined;
    if (selected !== null) void loadHistory(selected, true);
  }, HISTORY_FOLLOW_MS);
}

/** `quietly`: keep what is shown until the answer comes (no "loading…" flicker when following). */
async function loadHistory(topic: string, quietly = false): Promise<void> {
  const target = element('history');
  const limit = Math.max(1, Math.min(1000, Number(element<HTMLInputElement>('history-limit').value) || 20));
  if (!quietly) target.replaceChildren(make('div', 'when', 'loading…'));
  try {
    const rows = (await getJson(`${BASE}/api/history?topic=${encodeURIComponent(topic)}&limit=${limit}`)) as MessageView[];
    if (selected !== topic) return;
    target.replaceChildren(...rows.map(rowItem));
    if (rows.length === 0) target.replaceChildren(make('div', 'when', 'no message of this topic in the history'));
  } catch (error) {
    target.replaceChildren(make('div', 'bad', `could not load: ${(error as Error).message}`));
  }
}

element('history-reload').addEventListener('click', () => selected !== null && void loadHistory(selected));
element('retained-reload').addEventListener('click', () => selected !== null && void loadRetained(selected));

// ---- listing panels: clients, sources, bridges ----

const PROTOCOLS: Record<number, string> = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5' };

const CLIENT_COLUMNS: ReadonlyArray<Column<ClientSummary & { thread: number }>> = [
  { key: 'id', header: 'Client id', cell: (c) => ({ text: c.clientId, className: 'mono' }) },
  { key: 'user', header: 'User', cell: (c) => c.username ?? '(anonymous)' },
  { key: 'protocol', header: 'Protocol', cell: (c) => PROTOCOLS[c.protocolVersion] ?? String(c.protocolVersion) },
  { key: 'subs', header: 'Subs', cell: (c) => ({ text: String(c.subscriptions.length), title: c.subscriptions.join('\n') }) },
  { key: 'filters', header: 'Filters', cell: (c) => ({ text: c.subscriptions.slice(0, 3).join(', ') + (c.subscriptions.length > 3 ? ', …' : ''), className: 'mono' }) },
  { key: 'queued', header: 'Queued', cell: (c) => String(c.queued) },
  { key: 'inflight', header: 'In flight', cell: (c) => String(c.inflight) },
  { key: 'thread', header: 'Thread', cell: (c) => String(c.thread) },
  { key: 'since', header: 'Since', cell: (c) => time(c.connectedAt) },
];

/** A panel's heading note says what went wrong when its read fails. */
const failedNote = (id: string) => (error: Error) => setText(element(id), `could not load: ${error.message}`);

poll<ClientList>(
  `${BASE}/api/clients`,
  CLIENTS_MS,
  (list) => {
    drawTable(element<HTMLTableElement>('clients-table'), CLIENT_COLUMNS, list.clients, (c) => c.clientId);
    setText(element('clients-count'), list.total > list.clients.length ? `${list.clients.length} of ${list.total}` : `${list.total}`);
  },
  failedNote('clients-count'),
);

/** A panel listing what api/<name> answers: its #<name>-table and heading note #<name>-count. */
function listPanel<T>(name: string, everyMs: number, columns: readonly Column<T>[], key: (row: T) => string, summary: (rows: readonly T[]) => string, drawn?: () => void): void {
  poll<T[]>(
    `${BASE}/api/${name}`,
    everyMs,
    (rows) => {
      drawTable(element<HTMLTableElement>(`${name}-table`), columns, rows, key);
      setText(element(`${name}-count`), summary(rows));
      drawn?.();
    },
    failedNote(`${name}-count`),
  );
}

listPanel<SourceView>('sources', SOURCES_MS, SOURCE_COLUMNS, (s) => s.name, sourcesSummary);

// A click on a bridge's row lists its dead letters below, refreshed with the panel.
let deadOf: string | null = null;

async function loadDeadLetters(): Promise<void> {
  const name = deadOf;
  if (name === null) return;
  try {
    const letters = (await getJson(`${BASE}/api/bridges/dead-letters?bridge=${encodeURIComponent(name)}`)) as DeadLetterView[];
    if (deadOf !== name) return;
    drawTable(element<HTMLTableElement>('dead-table'), DEAD_LETTER_COLUMNS, letters, (d) => d.id);
    setText(element('dead-count'), letters.length === 0 ? 'none' : String(letters.length));
    element<HTMLButtonElement>('replay').disabled = letters.length === 0;
  } catch (error) {
    failedNote('dead-count')(error as Error);
  }
}

listPanel<BridgeView>('bridges', BRIDGES_MS, BRIDGE_COLUMNS, (b) => b.name, bridgesSummary, () => void loadDeadLetters());

element('bridges-table').addEventListener('click', (event) => {
  const name = (event.target as HTMLElement).closest<HTMLTableRowElement>('tbody tr')?.dataset.key;
  if (name === undefined) return;
  deadOf = name;
  element('dead-letters').hidden = false;
  setText(element('dead-bridge'), name);
  setText(element('replay-result'), '');
  void loadDeadLetters();
});

element('replay').addEventListener('click', async () => {
  const name = deadOf;
  if (name === null) return;
  const result = element('replay-result');
  try {
    const { replayed } = (await postJson(`${BASE}/api/bridges/replay`, { bridge: name })) as ReplayAnswer;
    setText(result, `${replayed} replayed at ${time(Date.now())}`);
    result.className = 'ok';
  } catch (error) {
    setText(result, `replay failed: ${(error as Error).message}`);
    result.className = 'bad';
  }
  void loadDeadLetters();
});

// ---- publish ----

/** `de ad be ef` or `deadbeef` -> bytes; null if it is not hex. */
function parseHex(text: string): Uint8Array | null {
  const digits = text.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) return null;
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

element<HTMLFormElement>('publish-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const result = element('publish-result');
  const topic = element<HTMLInputElement>('publish-topic').value;
  const text = element<HTMLTextAreaElement>('publish-payload').value;
  const asHex = element<HTMLSelectElement>('publish-format').value === 'hex';
  const payload = asHex ? parseHex(text) : text;
  if (payload === null) {
    setText(result, 'the payload is not hex (pairs of 0-9, a-f)');
    result.className = 'bad';
    return;
  }
  const qos = Number(element<HTMLSelectElement>('publish-qos').value) as 0 | 1 | 2;
  const retain = element<HTMLInputElement>('publish-retain').checked;
  client.publish(topic, payload, { qos, retain }, (error) => {
    setText(result, error ? `refused: ${error.message}` : `published to ${topic} at ${time(Date.now())}`);
    result.className = error ? 'bad' : 'ok';
  });
});

// ---- timers ----

setInterval(() => {
  drawTree();
  drawDetail();
}, DRAW_MS);

