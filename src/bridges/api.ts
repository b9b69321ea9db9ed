// REST for bridges, for HarperDB super users (docs/bridges.md, "REST"):
//   GET    /mqtt_bridges/                      every bridge with its status (never a password)
//   GET    /mqtt_bridges/<name>                one
//   GET    /mqtt_bridges/<name>/dead-letters   its dead letters (?limit=N)
//   POST   /mqtt_bridges/                      add a runtime bridge -> 201
//   PUT    /mqtt_bridges/<name>                change a runtime bridge (the whole spec)
//   DELETE /mqtt_bridges/<name>                remove a runtime bridge
//   POST   /mqtt_bridges/replay                replay dead letters: { bridge?, id?, limit? }
//   POST   /mqtt_bridges/<name>/replay         the same for one bridge: { id?, limit? }
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { HttpError, pathParts, reply, requireAdmin, restResource } from '../harper/restResource.js';
import { claim } from '../tables/ownership.js';
import type { BacklogSignals } from './backlogSignal.js';
import type { BridgeManager } from './manager.js';
import { specFileExists } from './manager.js';
import type { LogReader } from './outbound.js';
import { replayDeadLetters } from './retries.js';
import { BridgeSpecError, publicSpec, readBridgeSpec, type BridgeSpec } from './spec.js';
import { bridgeStatus, type BridgeStatus } from './status.js';
import { BRIDGES_TABLE, parkedOf, type BridgeTables } from './tables.js';

function limitOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, `limit must be a positive whole number, got ${JSON.stringify(value)}`);
  return limit;
}

function readSpec(data: unknown, name?: string): BridgeSpec {
  const fields = data && typeof data === 'object' && !Array.isArray(data) ? { ...(data as Record<string, unknown>) } : data;
  if (name !== undefined && fields && typeof fields === 'object') (fields as Record<string, unknown>).name ??= name;
  try {
    const spec = readBridgeSpec(fields, specFileExists);
    if (name !== undefined && spec.name !== name) throw new HttpError(400, `the body names bridge "${spec.name}", the path "${name}"`);
    return spec;
  } catch (error) {
    if (error instanceof BridgeSpecError) throw new HttpError(400, error.message);
    throw error;
  }
}

/** A bridge as GET /mqtt_bridges/ lists it: its spec without the password, and its status. */
export type BridgeListing = ReturnType<typeof publicSpec> & { source: 'config' | 'runtime'; status: BridgeStatus };

/** A dead letter as GET /mqtt_bridges/<name>/dead-letters lists it. */
export interface DeadLetterListing {
  id: string;
  position: number;
  topic: string;
  remoteTopic: string;
  qos: number;
  bytes: number;
  attempts: number;
  reason: string;
  deadAt: string;
}

/** The REST API's reads and replay, for the console and the metrics: all from tables, so the same on any thread. */
export interface BridgeReads {
  list(): Promise<BridgeListing[]>;
  /** null: no such bridge. */
  deadLetters(name: string, limit?: number): Promise<DeadLetterListing[] | null>;
  replay(selection: { bridge?: string; id?: string; limit?: number }): Promise<number>;
}

export function registerBridgesApi(manager: BridgeManager, tables: BridgeTables, bus: LogReader, signals: BacklogSignals): BridgeReads {
  // Read from the table, not this thread's running set, which follows it a moment later.
  const find = async (name: string) => (await manager.storedSpecs()).find((entry) => entry.spec.name === name);
  const view = async ({ spec, source }: { spec: BridgeSpec; source: 'config' | 'runtime' }): Promise<BridgeListing> => ({ ...publicSpec(spec), source, status: await bridgeStatus(spec, tables, bus, signals) });
  const list = async () => Promise.all((await manager.storedSpecs()).map(view));
  const deadLetters = async (name: string, limit?: number): Promise<DeadLetterListing[]> => {
    const rows = await parkedOf(tables.deadLetters, name);
    return rows.slice(0, limit ?? rows.length).map((row) => ({ id: row.id, position: row.position, topic: row.message.topic, remoteTopic: row.remote.topic, qos: row.remote.qos, bytes: row.message.payload.length, attempts: row.attempts, reason: row.reason, deadAt: new Date(row.at).toISOString() }));
  };
  const runtimeOnly = async (name: string) => {
    const entry = await find(name);
    if (entry?.source === 'config') throw new HttpError(409, `bridge ${name} is defined in config.yaml; change it there`);
    return entry;
  };

  const resource = restResource(BRIDGES_TABLE, {
    get: async (request) => {
      requireAdmin(request.user);
      const [name, what, ...rest] = pathParts(request);
      if (name === undefined) return list();
      const entry = await find(name);
      if (!entry || rest.length > 0) throw new HttpError(404, `no bridge ${name}`);
      if (what === undefined) return view(entry);
      if (what !== 'dead-letters') throw new HttpError(404, `GET /${BRIDGES_TABLE}/${name}/dead-letters lists its dead letters`);
      return deadLetters(name, limitOf(new URLSearchParams(request.search).get('limit')));
    },
    post: async (request, data) => {
      requireAdmin(request.user);
      const [name, action, ...rest] = pathParts(request);
      const body = (data ?? {}) as Record<string, unknown>;
      if (name === 'replay' && action === undefined) return { replayed: await replay({ bridge: optionalText(body.bridge), id: optionalText(body.id), limit: limitOf(body.limit) }) };
      if (name !== undefined && action === 'replay' && rest.length === 0) {
        if (!(await find(name))) throw new HttpError(404, `no bridge ${name}`);
        return { replayed: await replay({ bridge: name, id: optionalText(body.id), limit: limitOf(body.limit) }) };
      }
      if (name !== undefined) throw new HttpError(404, `POST /${BRIDGES_TABLE}/ adds a bridge; POST /${BRIDGES_TABLE}/<name>/replay replays its dead letters`);
      const spec = readSpec(data);
      if (await find(spec.name)) throw new HttpError(409, `bridge ${spec.name} exists; PUT /${BRIDGES_TABLE}/${spec.name} changes it`);
      await tables.bridges.put(spec.name, { id: spec.name, spec, createdAt: Date.now(), createdBy: request.user?.username ?? '' });
      log.info(`bridge ${spec.name} added by ${request.user?.username} (${spec.url})`);
      return reply(201, publicSpec(spec));
    },
    put: async (request, data) => {
      requireAdmin(request.user);
      const [name, ...rest] = pathParts(request);
      if (name === undefined || rest.length > 0) throw new HttpError(404, `PUT /${BRIDGES_TABLE}/<name>`);
      if (!(await runtimeOnly(name))) throw new HttpError(404, `no bridge ${name}; POST /${BRIDGES_TABLE}/ adds one`);
      const spec = readSpec(data, name);
      const before = await tables.bridges.get(name);
      await tables.bridges.put(name, { id: name, spec, createdAt: before?.createdAt ?? Date.now(), createdBy: before?.createdBy ?? '' });
      log.info(`bridge ${name} changed by ${request.user?.username}`);
      return publicSpec(spec);
    },
    delete: async (request) => {
      requireAdmin(request.user);
      const [name, ...rest] = pathParts(request);
      if (name === undefined || rest.length > 0) throw new HttpError(404, `DELETE /${BRIDGES_TABLE}/<name>`);
      if (!(await runtimeOnly(name))) throw new HttpError(404, `no bridge ${name}`);
      await tables.bridges.delete(name);
      log.info(`bridge ${name} removed by ${request.user?.username}`);
      return { removed: name };
    },
  });

  async function replay(selection: { bridge?: string; id?: string; limit?: number }): Promise<number> {
    const count = await replayDeadLetters(tables, selection);
    log.info(`replaying ${count} dead letters${selection.bridge ? ` of bridge ${selection.bridge}` : ''}`);
    return count;
  }

  claim(resource);
  server.resources.set(BRIDGES_TABLE, resource, { rest: true, mqtt: false });
  return {
    list,
    deadLetters: async (name, limit) => ((await find(name)) ? deadLetters(name, limit) : null),
    replay,
  };
}

function optionalText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'bridge and id must be strings');
  return value;
}
