// Last wills, kept in `mqtt_wills` while their client is connected so that a will survives a
// crashed worker thread or HarperDB process and is published when the thread or process restarts.
import { InOrderPerKey } from '../harper/keyed.js';
import { ensureTable, type HarperTable } from '../harper/tables.js';
import { asBuffer, readProperties } from '../messages.js';
import type { WillMessage } from '../wire/connect.js';

export const WILLS_TABLE = 'mqtt_wills';

interface WillRecord {
  id: string;
  /** The connection that set the will; a later connection of the same client replaces it. */
  connectionId: string;
  will: WillMessage;
  username: string | null;
  /** Worker thread that holds the connection, and the HarperDB process it runs in. */
  workerIndex: number;
  bootId: string;
  /** Epoch ms of the CONNECT, to tell wills of dead connections from those of live ones. */
  connectedAt: number;
}

export interface OrphanWill {
  clientId: string;
  will: WillMessage;
  username: string | null;
}

export class WillStore {
  /** A will set by a new connection must not be deleted by the end of the one before. */
  private readonly writes = new InOrderPerKey();

  private constructor(
    private readonly table: HarperTable<WillRecord>,
    private readonly workerIndex: number,
    private readonly bootId: string,
    private readonly startedAt: number,
  ) {}

  static async open(database: string, workerIndex: number, bootId: string): Promise<WillStore> {
    const table = await ensureTable<WillRecord>({
      database,
      table: WILLS_TABLE,
      attributes: [
        { name: 'id', isPrimaryKey: true },
        { name: 'connectionId', type: 'String' },
        { name: 'will' },
        { name: 'username', type: 'String' },
        { name: 'workerIndex', type: 'Int' },
        { name: 'bootId', type: 'String' },
        { name: 'connectedAt', type: 'Float' },
      ],
      audit: false,
    });
    return new WillStore(table, workerIndex, bootId, Date.now());
  }

  remember(clientId: string, connectionId: string, will: WillMessage, username: string | null): Promise<unknown> {
    return this.writes.run(clientId, () => this.store(clientId, connectionId, will, username));
  }

  private store(clientId: string, connectionId: string, will: WillMessage, username: string | null): Promise<unknown> {
    const record: WillRecord = {
      id: clientId,
      connectionId,
      will,
      username,
      workerIndex: this.workerIndex,
      bootId: this.bootId,
      connectedAt: Date.now(),
    };
    return this.table.put(clientId, record);
  }

  /** Forgets the will of this connection, not one a newer connection of the client has set. */
  forget(clientId: string, connectionId?: string): Promise<void> {
    return this.writes.run(clientId, async () => {
      if (connectionId !== undefined) {
        const record = await this.table.get(clientId);
        if (record && record.connectionId !== connectionId) return;
      }
      await this.table.delete(clientId);
    });
  }

  /**
   * Wills whose connection died with its thread or process: this thread's own from an earlier run
   * of the same thread, and (thread 0 only) every will left by an earlier HarperDB process.
   */
  async *orphans(): AsyncIterable<OrphanWill> {
    for await (const record of this.table.search({})) {
      const sameProcess = record.bootId === this.bootId;
      const mine = sameProcess
        ? record.workerIndex === this.workerIndex && record.connectedAt < this.startedAt
        : this.workerIndex === 0;
      if (!mine) continue;
      // Copied field by field: nested objects of HarperDB records cannot be spread.
      const stored = record.will;
      const will: WillMessage = { topic: stored.topic, payload: asBuffer(stored.payload), qos: stored.qos, retain: stored.retain };
      const properties = readProperties(stored.properties);
      if (properties) will.properties = properties;
      yield { clientId: record.id, will, username: record.username };
    }
  }
}
