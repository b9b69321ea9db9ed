// The `sys` table (schema.graphql): one row per statistic, id = the topic below `$SYS/`. REST reads
// the rows at /$SYS/ and /sys/ (read-only: only the $SYS updater writes them); MQTT subscribers get
// them as retained messages.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { readOnlyView } from '../harper/restView.js';
import { openTable, type HarperTable } from '../harper/tables.js';
import { guardWrites } from '../harper/writeGuard.js';
import type { BusMessage } from '../messages.js';
import type { RetainedSource } from '../retained.js';
import { topicMatches } from '../topics/match.js';
import { isSysTopic } from '../topics/validate.js';

export const SYS_DATABASE = 'data';
export const SYS_TABLE = 'sys';

export interface SysRow {
  id: string;
  value: string;
  updatedAt: Date;
}

export function openSysTable(): HarperTable<SysRow> {
  const table = openTable<SysRow>(SYS_DATABASE, SYS_TABLE);
  if (!table) {
    throw new Error(`harper-mqtt-bridge: table ${SYS_DATABASE}.${SYS_TABLE} is missing; config.yaml must load schema.graphql (graphqlSchema) before dist/index.js`);
  }
  guardWrites(table);
  const view = readOnlyView(table, ['id', 'value', 'updatedAt'], 'the broker writes its statistics itself');
  server.resources.set('$SYS', view as never, { rest: true, mqtt: false });
  // REST users also find it by its name, unless an app took /sys.
  if (!server.resources.get(SYS_TABLE)) server.resources.set(SYS_TABLE, view as never, { rest: true, mqtt: false });
  else log.debug(`/${SYS_TABLE} serves something else; the sys table is at /$SYS/ only`);
  return table;
}

export function sysMessage(id: string, value: string, timestamp: number): BusMessage {
  return { topic: `$SYS/${id}`, payload: Buffer.from(value), qos: 0, retain: true, clientId: '', timestamp };
}

/** The current values for a new subscription. Filters that start with a wildcard never match them [MQTT-4.7.2-1]. */
export function sysRetainedSource(table: HarperTable<SysRow>): RetainedSource {
  return async function* sysRetained(filter: string) {
    if (!isSysTopic(filter)) return;
    for await (const row of table.search({})) {
      const message = sysMessage(row.id, String(row.value), new Date(row.updatedAt).getTime());
      if (topicMatches(filter, message.topic)) yield message;
    }
  };
}
