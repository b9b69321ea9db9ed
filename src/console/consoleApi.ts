// The web console at /mqtt-console/ on HarperDB's HTTP port, for HarperDB super users: the page
// and its scripts (built into dist/console/web/), and the reads the page cannot make over MQTT:
// the clients of every thread, a topic's retained rows and its history, the sources' and bridges'
// statuses, a bridge's dead letters and their replay. They live under the page's
// path because a browser sends the Basic credentials it was asked for there only below that path
// (the page's MQTT WebSocket connects to /mqtt-console/ws for the same reason).
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { server } from 'harperdb';
import type { BridgeReads } from '../bridges/api.js';
import { log } from '../harper/log.js';
import { HttpError, requireAdmin, restResource } from '../harper/restResource.js';
import type { History } from '../history/store.js';
import type { MessageRow } from '../messages.js';
import type { RetainedStore } from '../retained.js';
import { claim } from '../tables/ownership.js';
import { topicNameProblem } from '../topics/validate.js';
import type { SourceStatuses } from '../sources/sourcesApi.js';
import type { ClientsBoard } from './clientsBoard.js';
import { bridgeView, deadLetterView } from './bridgeViews.js';
import { sourceView } from './sourceViews.js';
import type { DeadLetterView, MessageView, ReplayAnswer, RetainedView } from './web/api.js';

/** Not a topic path: topic roots are registered later and give way to resources already there. */
export const CONSOLE_PATH = 'mqtt-console';
/** Retained rows listed below a topic. */
const CHILD_LIMIT = 200;
/** History rows in one answer. */
const HISTORY_LIMIT = 1000;
/** Dead letters listed for one bridge. */
const DEAD_LETTER_LIMIT = 200;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export interface ConsoleServices {
  retained: RetainedStore;
  board: ClientsBoard;
  /** null: the history is off. */
  history: History | null;
  /** null: sources are off. */
  sources: SourceStatuses | null;
  bridges: BridgeReads;
}

interface StaticFile {
  contentType: string;
  data: Buffer;
}

/** The built page, read once: a fixed set of files, so no path from a URL ever reaches the file system. */
function readWebFiles(dir: URL): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  try {
    for (const name of readdirSync(dir)) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) files.set(name, { contentType, data: readFileSync(new URL(name, dir)) });
    }
  } catch (error) {
    log.warn(`the web console is not built (${dir.pathname}); run npm run build`, error);
  }
  return files;
}

/** A message row as the page shows it: the payload as base64, formatted in the browser. */
function shown(row: MessageRow): MessageView {
  return {
    topic: row.topic,
    qos: row.qos,
    clientId: row.clientId,
    timestamp: new Date(row.timestamp).getTime(),
    contentType: row.contentType,
    data: Buffer.from(row.data ?? []).toString('base64'),
  };
}

function checkTopic(topic: string): void {
  if (topicNameProblem(topic) !== null) throw new HttpError(400, `not a topic: ${JSON.stringify(topic)}`);
}

async function retainedOf(retained: RetainedStore, topic: string): Promise<RetainedView> {
  checkTopic(topic);
  const own = await retained.get(topic);
  const children: MessageView[] = [];
  for await (const { row } of retained.rows(`${topic}/+`)) {
    children.push(shown(row));
    if (children.length >= CHILD_LIMIT) break;
  }
  return { topic, row: own ? shown(own) : null, children };
}

async function historyOf(history: History | null, topic: string, limit: number): Promise<MessageView[]> {
  checkTopic(topic);
  if (!history) throw new HttpError(409, 'the history is off (historyTtl: 0)');
  const count = Number.isInteger(limit) && limit > 0 ? Math.min(limit, HISTORY_LIMIT) : 20;
  return (await history.latest(topic, count)).map(shown);
}

async function deadLettersOf(bridges: BridgeReads, name: string): Promise<DeadLetterView[]> {
  const letters = await bridges.deadLetters(name, DEAD_LETTER_LIMIT);
  if (!letters) throw new HttpError(404, `no bridge ${name}`);
  return letters.map(deadLetterView);
}

/** A service's reads, or 503 while this thread starts. */
function servicesOf(services: () => ConsoleServices | null): ConsoleServices {
  const started = services();
  if (!started) throw new HttpError(503, 'harper-mqtt-bridge is starting or not configured correctly (see the log)');
  return started;
}

export function registerConsole(webDir: URL, services: () => ConsoleServices | null): void {
  if (server.resources.get(CONSOLE_PATH)) {
    log.warn(`/${CONSOLE_PATH} serves something else; the web console is not served`);
    return;
  }
  const files = readWebFiles(webDir);
  const resource = restResource(CONSOLE_PATH, {
    get: async (request) => {
      requireAdmin(request.user);
      const path = request.path.replace(/^\//, '');
      if (path.startsWith('api/')) {
        const started = servicesOf(services);
        const query = new URLSearchParams(request.search);
        if (path === 'api/clients') return started.board.gather();
        if (path === 'api/retained') return retainedOf(started.retained, query.get('topic') ?? '');
        if (path === 'api/history') return historyOf(started.history, query.get('topic') ?? '', Number(query.get('limit') ?? 20));
        if (path === 'api/sources') return started.sources ? (await started.sources()).map(sourceView) : [];
        if (path === 'api/bridges') return (await started.bridges.list()).map(bridgeView);
        if (path === 'api/bridges/dead-letters') return deadLettersOf(started.bridges, query.get('bridge') ?? '');
      }
      const file = files.get(path === '' ? 'index.html' : path);
      if (!file) throw new HttpError(404, `no ${path} in the console`);
      return { contentType: file.contentType, data: file.data };
    },
    post: async (request, data): Promise<ReplayAnswer> => {
      requireAdmin(request.user);
      if (request.path !== '/api/bridges/replay') throw new HttpError(404, 'POST api/bridges/replay is the only action of the console');
      // A page of another site can POST a form here with the browser's Basic credentials, but not JSON without asking (CORS preflight).
      if (!request.header('content-type')?.startsWith('application/json')) throw new HttpError(415, 'send { "bridge": "<name>" } as application/json');
      const bridge = (data as { bridge?: unknown } | undefined)?.bridge;
      if (typeof bridge !== 'string' || bridge === '') throw new HttpError(400, 'name the bridge: { "bridge": "<name>" }');
      const started = servicesOf(services);
      if ((await started.bridges.deadLetters(bridge, 1)) === null) throw new HttpError(404, `no bridge ${bridge}`);
      return { replayed: await started.bridges.replay({ bridge }) };
    },
  });
  claim(resource);
  server.resources.set(CONSOLE_PATH, resource, { rest: true, mqtt: false });
}
