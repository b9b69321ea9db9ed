// The message bus between worker threads: every accepted message is published on one record of
// an audited table. HarperDB wakes every thread for each commit, each thread routes the message
// to its own clients, and the audit log lets sessions that fell behind read it again.
import { ensureTable, type HarperTable, type TableEvent } from './harper/tables.js';
import { readBusMessage, type BusMessage } from './messages.js';

export const BUS_TABLE = 'mqtt_bus';
const MESSAGE_ID = 'm';
const CONTROL_ID = 'c';

/** Notices between threads about sessions (not delivered to MQTT clients). */
export type Control = { kind: 'takeover'; clientId: string; connectionId: string; cleanStart: boolean };

export interface LoggedMessage {
  message: BusMessage;
  localTime: number;
}

type BusRecord = BusMessage | Control;

export class Bus {
  private constructor(readonly table: HarperTable<BusRecord>) {}

  static async open(database: string): Promise<Bus> {
    const table = await ensureTable<BusRecord>({
      database,
      table: BUS_TABLE,
      attributes: [{ name: 'id', isPrimaryKey: true }],
      audit: true,
    });
    return new Bus(table);
  }

  /** Resolves once the message is committed (and so will reach every thread). */
  publish(message: BusMessage): Promise<unknown> {
    return this.table.publish(MESSAGE_ID, message);
  }

  control(notice: Control): Promise<unknown> {
    return this.table.publish(CONTROL_ID, notice);
  }

  /** Calls the handlers, in commit order, for everything published from now on by any thread. */
  async listen(onMessage: (message: BusMessage, localTime: number) => void, onControl: (notice: Control) => void): Promise<void> {
    const events = await this.table.subscribe({ isCollection: true, omitCurrent: true });
    events.on('data', (event: TableEvent<BusRecord>) => {
      if (event.type !== 'message') return;
      if (event.id === MESSAGE_ID) onMessage(readBusMessage(event.value as BusMessage), event.localTime);
      else if (event.id === CONTROL_ID) onControl(event.value as Control);
    });
  }

  /** Messages committed at or after `startTime`, read back from the audit log. */
  async *since(startTime: number): AsyncIterable<LoggedMessage> {
    for await (const event of this.table.getHistory(startTime)) {
      if (event.id === MESSAGE_ID && event.type === 'message') {
        yield { message: readBusMessage(event.value as BusMessage), localTime: event.localTime };
      }
    }
  }
}
