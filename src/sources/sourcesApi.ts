// REST for sources, for HarperDB super users:
//   GET    /mqtt_sources/          every source (config.yaml's, runtime ones, refused ones) with its status
//   GET    /mqtt_sources/<name>    one
//   POST   /mqtt_sources/          add a runtime source (or replace the runtime one of that name)
//   DELETE /mqtt_sources/<name>    remove a runtime source
//   GET    /mqtt_sent/?table=T&id=X[&database=D]   was row X's last change published (per source of T)
import { server } from 'harperdb';
import { HttpError, requireAdmin, restResource } from '../harper/restResource.js';
import { historyDatabaseOf } from '../history/store.js';
import { claim } from '../tables/ownership.js';
import { SourceError } from './definition.js';
import type { Positions } from './positions.js';
import type { SentRows } from './sentRows.js';
import type { SourceSlot } from './slot.js';
import { refusedStatus, sourceStatus, type SourceStatus } from './status.js';
import { SOURCES_TABLE, type SourceStore } from './sourceStore.js';
import { sentRecord } from './tracking.js';

export const SENT_RESOURCE = 'mqtt_sent';

/** Every source's status, read from the position rows and shared slots: the same on any thread. */
export type SourceStatuses = () => Promise<SourceStatus[]>;

export function sourceStatuses(store: SourceStore, positions: Positions, slot: (name: string) => SourceSlot): SourceStatuses {
  return async () => {
    const running = await Promise.all(store.all().map((source) => sourceStatus(source, store, positions, slot(source.name))));
    return [...running, ...store.refused().map(refusedStatus)];
  };
}

export function registerSourcesApi(store: SourceStore, positions: Positions, sent: SentRows, slot: (name: string) => SourceSlot, database: string): SourceStatuses {
  const statuses = sourceStatuses(store, positions, slot);
  const sources = restResource(SOURCES_TABLE, {
    get: async (request) => {
      requireAdmin(request.user);
      const name = decodeURIComponent(request.path.replace(/^\/|\/$/g, ''));
      const all = await statuses();
      if (name === '') return all;
      const found = all.find((status) => status.name === name);
      if (!found) throw new HttpError(404, `no source ${name}`);
      return found;
    },
    post: async (request, data) => {
      requireAdmin(request.user);
      try {
        const source = await store.add(data, request.user?.username ?? '');
        return await sourceStatus(source, store, positions, slot(source.name));
      } catch (error) {
        if (error instanceof SourceError) throw new HttpError(/config\.yaml/.test(error.message) ? 409 : 400, error.message);
        throw error;
      }
    },
    delete: async (request) => {
      requireAdmin(request.user);
      const name = decodeURIComponent(request.path.replace(/^\/|\/$/g, ''));
      try {
        if (!(await store.remove(name))) throw new HttpError(404, `no runtime source ${name}`);
      } catch (error) {
        if (error instanceof SourceError) throw new HttpError(409, error.message);
        throw error;
      }
      slot(name).clearError();
      return { removed: name };
    },
  });
  const sentApi = restResource(SENT_RESOURCE, {
    get: async (request) => {
      requireAdmin(request.user);
      const query = new URLSearchParams(request.search);
      const table = query.get('table');
      const id = query.get('id');
      if (!table || id === null) throw new HttpError(400, 'say which row: ?table=<table>&id=<primary key>[&database=<database>]');
      const wanted = query.get('database') ?? database;
      const matching = store.all().filter((source) => source.table === table && source.database === wanted);
      if (matching.length === 0) throw new HttpError(404, `no source publishes ${wanted}.${table}`);
      return Promise.all(matching.map((source) => sentRecord(source, keyCandidates(id), { positions, sent, historyDatabase: historyDatabaseOf(database) })));
    },
  });
  for (const [name, resource] of [[SOURCES_TABLE, sources], [SENT_RESOURCE, sentApi]] as const) {
    claim(resource);
    server.resources.set(name, resource, { rest: true, mqtt: false });
  }
  return statuses;
}

/** A key from a query string: HarperDB keys keep their type, so "7" may be the number 7 or the string. */
function keyCandidates(text: string): Array<string | number> {
  return text !== '' && String(Number(text)) === text ? [Number(text), text] : [text];
}
