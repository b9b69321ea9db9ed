// Topics of other applications' MQTT resources (a table an app exports with `@export`): served the
// way HarperDB's own MQTT server serves them, through server.resources and the resource's
// subscribe, publish, put and delete, so installing this component changes nothing for those apps.
// Payloads are decoded and encoded as HarperDB does: a payload starting with `{` is JSON, anything
// else is kept as { contentType, data }.
import { server } from 'harperdb';
import type { HarperUser } from '../authorize.js';
import { log } from '../harper/log.js';
import type { BusMessage, QoS } from '../messages.js';
import { isOwn } from '../tables/ownership.js';
import { literalPart } from '../topics/naming.js';

interface ResourceEntry {
  path: string;
  relativeURL: string;
  Resource: {
    subscribe(request: object, context: object): Promise<AsyncIterable<NativeUpdate> | undefined>;
    publish(id: unknown, data: unknown, context: object): Promise<unknown>;
    put(id: unknown, data: unknown, context: object): Promise<unknown>;
    delete(id: unknown, context: object): Promise<unknown>;
  };
}

interface NativeUpdate {
  id: unknown;
  type?: string;
  value?: unknown;
}

type Transaction = (context: object, callback: () => unknown) => Promise<unknown>;

/** The resource another application registered for MQTT at `path`'s longest prefix, if any. */
function nativeEntry(path: string): ResourceEntry | null {
  if (path === '') return null;
  const entry = server.resources.getMatch(path, 'mqtt') as ResourceEntry | undefined;
  // The root fallback ('') does not count: serving what nothing else serves is this component's job.
  if (!entry || entry.path === '' || isOwn(entry.Resource)) return null;
  return entry;
}

/** True when a topic (or the literal part of a filter) belongs to another application's resource. */
export function servedNatively(topicOrFilter: string, isFilter: boolean): boolean {
  return nativeEntry(isFilter ? literalPart(topicOrFilter) : topicOrFilter) !== null;
}

/** HarperDB's decoding of an MQTT payload into record data. */
function decode(payload: Buffer): unknown {
  if (payload.length === 0) return undefined;
  if (payload[0] === 0x7b /* { */) {
    try {
      return JSON.parse(payload.toString('utf8'));
    } catch {
      // not JSON after all: kept as bytes below
    }
  }
  return { contentType: 'application/octet-stream', data: payload };
}

/** HarperDB's encoding of record data into an MQTT payload. */
function encode(value: unknown): Buffer {
  if (value == null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'object' && 'data' in value && 'contentType' in value) return encode((value as { data: unknown }).data);
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.from(JSON.stringify(value));
}

function context(user: HarperUser | undefined): Record<string, unknown> {
  return { user, authorize: true, checkPermission: user?.role?.permission ?? {} };
}

/** The record id a topic addresses below its resource: `a/b/c/d` on a resource at `a/b/c` is `d`. */
function idOf(entry: ResourceEntry): string | null {
  const id = entry.relativeURL.replace(/^\//, '');
  return id === '' ? null : decodeURIComponent(id);
}

/** PUBLISH to another application's resource: retained is put (or delete when empty), else publish. */
export async function publishNatively(topic: string, payload: Buffer, retain: boolean, user: HarperUser | undefined): Promise<void> {
  const entry = nativeEntry(topic);
  if (!entry) throw new Error(`no resource serves ${topic}`);
  const id = idOf(entry);
  const data = decode(payload);
  const transaction = (globalThis as { transaction?: Transaction }).transaction!;
  const requestContext = context(user);
  await transaction(requestContext, () =>
    retain ? (data === undefined ? entry.Resource.delete(id, requestContext) : entry.Resource.put(id, data, requestContext)) : entry.Resource.publish(id, data, requestContext),
  );
}

/** A subscription to another application's resource; `stop()` ends it. */
export interface NativeSubscription {
  stop(): void;
}

/**
 * SUBSCRIBE to a filter under another application's resource: every update of a matching record
 * (retained records first, unless `omitCurrent`) is handed to `deliver` as a message.
 */
export async function subscribeNatively(
  filter: string,
  qos: QoS,
  user: HarperUser | undefined,
  omitCurrent: boolean,
  deliver: (message: BusMessage) => void,
): Promise<NativeSubscription> {
  const entry = nativeEntry(literalPart(filter));
  if (!entry) throw new Error(`no resource serves ${filter}`);
  const below = filter.slice(entry.path.length + 1); // the filter's levels below the resource's path
  const levels = below === '' ? [] : below.split('/');
  const request: Record<string, unknown> = { ...context(user), async: true, omitCurrent, url: '/' + below, isCollection: levels.some((l) => l === '#' || l === '+') };
  if (request.isCollection) request.url = '/' + levels.slice(0, levels.findIndex((l) => l === '#' || l === '+')).map((l) => l + '/').join('');
  const transaction = (globalThis as { transaction?: Transaction }).transaction!;
  const updates = (await transaction(request, () => entry.Resource.subscribe(request, context(user)))) as AsyncIterable<NativeUpdate> | undefined;
  let stopped = false;
  if (updates) {
    void (async () => {
      try {
        for await (const update of updates) {
          if (stopped) break;
          if (update.type && !['put', 'delete', 'message', 'patch'].includes(update.type)) continue;
          const id = Array.isArray(update.id) ? update.id.join('/') : String(update.id ?? '');
          const topic = id === '' ? entry.path : `${entry.path}/${id}`;
          if (!matchesBelow(levels, id)) continue;
          deliver({ topic, payload: encode(update.value), qos, retain: false, clientId: '', timestamp: Date.now() }); // as HarperDB sends them
        }
      } catch (error) {
        if (!stopped) log.warn(`subscription to ${filter} ended`, error);
      }
    })();
  }
  return {
    stop() {
      stopped = true;
      (updates as { return?: () => unknown } | undefined)?.return?.();
    },
  };
}

/** Whether a record id (levels below the resource) matches the filter's levels below it. */
function matchesBelow(levels: string[], id: string): boolean {
  if (levels.length === 0) return id === '';
  const parts = id === '' ? [] : id.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level === '#') return true;
    if (i >= parts.length) return false;
    if (level !== '+' && level !== parts[i]) return false;
  }
  return parts.length === levels.length;
}
