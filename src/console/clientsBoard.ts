// Connected clients of every thread, for the console. Each thread writes its list as one row of
// `mqtt_console_clients` once a second, but only while a console is looking (a flag in memory all
// threads share), so a broker nobody watches pays nothing. The reader merges the fresh rows.
import { log } from '../harper/log.js';
import { sharedBuffer } from '../harper/sharedMemory.js';
import { ensureTable, type HarperTable } from '../harper/tables.js';
import { bootId, nodeThreadId } from '../harper/thread.js';
import { mergeThreads, type LiveClients } from './liveClients.js';
import type { ClientList, ClientSummary } from './web/api.js';

export const BOARD_TABLE = 'mqtt_console_clients';
/** Threads write their lists this often while wanted... */
const WRITE_MS = 1000;
/** ...for this long after the last request. */
const WANTED_MS = 30_000;
/** A row older than this is of a thread that ended. */
const FRESH_MS = 5000;
/** Clients listed per thread and in an answer. */
const LIST_LIMIT = 1000;

interface BoardRow {
  id: string;
  boot: string;
  thread: number;
  total: number;
  clients: ClientSummary[];
  updatedAt: number;
}

export class ClientsBoard {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly table: HarperTable<BoardRow>,
    private readonly clients: LiveClients,
    /** [0]: epoch ms until which threads write their lists. */
    private readonly wantedUntil: Float64Array,
  ) {}

  static async open(database: string, clients: LiveClients): Promise<ClientsBoard> {
    const table = await ensureTable<BoardRow>({
      database,
      table: BOARD_TABLE,
      attributes: [
        { name: 'id', type: 'String', isPrimaryKey: true },
        { name: 'boot', type: 'String' },
        { name: 'thread', type: 'Int' },
        { name: 'total', type: 'Int' },
        { name: 'clients' },
        { name: 'updatedAt', type: 'Float' },
      ],
      audit: false,
    });
    const wanted = new Float64Array(sharedBuffer(table as HarperTable<object>, 'harper-mqtt-bridge/console-wanted/8', 8));
    return new ClientsBoard(table, clients, wanted);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (Date.now() < this.wantedUntil[0]!) this.write().catch((error) => log.warn('could not list the clients of this thread', error));
    }, WRITE_MS);
    this.timer.unref();
  }

  private write(): Promise<unknown> {
    const id = `${bootId}/${nodeThreadId}`;
    return this.table.put(id, { id, boot: bootId, thread: nodeThreadId, ...this.clients.snapshot(LIST_LIMIT), updatedAt: Date.now() });
  }

  /** The clients of all threads. The first request after a quiet spell waits for every thread to write. */
  async gather(): Promise<ClientList> {
    const now = Date.now();
    const wasWanted = this.wantedUntil[0]! > now;
    this.wantedUntil[0] = now + WANTED_MS;
    if (!wasWanted) {
      await this.write();
      await new Promise((resolve) => setTimeout(resolve, WRITE_MS + 200));
    }
    const threads: BoardRow[] = [];
    for await (const row of this.table.search({})) {
      if (row.boot !== bootId) await this.table.delete(row.id); // of an earlier process
      else if (Date.now() - row.updatedAt <= FRESH_MS) threads.push(row);
    }
    return mergeThreads(threads, LIST_LIMIT);
  }
}
