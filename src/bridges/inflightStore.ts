// The outgoing store of a bridge's MQTT.js client (an MQTT.js Store), with its QoS 2 exchanges
// kept in a table, so that after a crash the bridge resumes them with the same packet ids: a
// PUBLISH the remote may already hold is sent again with its id (the remote drops the copy), and
// one the remote answered with PUBREC gets its PUBREL, never the PUBLISH again [MQTT-4.3.3]. That
// needs a persistent session on the remote (clean: false, the default).
//
// A row is committed before its packet goes out (MQTT.js waits for `put`), and deleted only once
// the saved cursor is past its position: until then a restart would read the message from the log
// again and send it as new. QoS 1 packets stay in memory (a crash may duplicate them, which QoS 1
// allows, and they are counted).
import { Readable } from 'node:stream';
import type { IStore, Packet } from 'mqtt';
import type { HarperTable } from '../harper/tables.js';
import type { InflightRow, StoredPacket } from './tables.js';

type Done = (error?: Error) => void;
type PacketDone = (error?: Error, packet?: Packet) => void;
type Sendable = Packet & { messageId: number; cmd: string; qos?: number; topic?: string; payload?: Buffer | string; retain?: boolean; properties?: Record<string, unknown> };

const rowId = (bridge: string, position: number) => `${bridge}/${position}`;

export class InflightStore implements IStore {
  /** Packets by message id, in the order first put (= bus position order): MQTT.js resends them in this order. */
  private readonly packets = new Map<number, Sendable>();
  /** Message id -> bus position, for the exchanges kept in the table. */
  private readonly positions = new Map<number, number>();
  /** Positions whose exchange completed: their rows go once the saved cursor is past them. */
  private readonly completed = new Set<number>();
  /** Positions restored at start: MQTT.js finishes them before the bridge sends anything new. */
  private readonly restored = new Set<number>();
  /** The bus position of the message being published now (set around `client.publish` by the outbound). */
  sending: number | undefined;

  private constructor(
    private readonly table: HarperTable<InflightRow>,
    private readonly bridge: string,
    private readonly failed: (what: string, error: unknown) => void,
  ) {}

  /**
   * The store as the last run left it: rows at or below the saved cursor are done and deleted; of
   * rows sharing a packet id only the newest can be in flight (an id is reused only after its
   * exchange completed), the others are done.
   */
  static async restore(table: HarperTable<InflightRow>, bridge: string, cursor: number, failed: (what: string, error: unknown) => void): Promise<InflightStore> {
    const store = new InflightStore(table, bridge, failed);
    const rows: InflightRow[] = [];
    for await (const row of table.search({ conditions: [{ attribute: 'bridge', comparator: 'equals', value: bridge }] })) rows.push(row);
    rows.sort((a, b) => a.position - b.position);
    const newest = new Map(rows.map((row) => [row.messageId, row.position]));
    for (const row of rows) {
      if (row.position <= cursor) await table.delete(row.id);
      else if (newest.get(row.messageId) !== row.position) {
        store.completed.add(row.position);
        store.restored.add(row.position);
      } else {
        store.packets.set(row.messageId, readPacket(row.packet));
        store.positions.set(row.messageId, row.position);
        store.restored.add(row.position);
      }
    }
    return store;
  }

  /** How many exchanges were restored to be resumed. */
  get resuming(): number {
    return this.packets.size;
  }

  /**
   * True (once) for a position whose exchange was resumed from the table: the outbound must not
   * send it again. A resumed PUBLISH the remote refused is no longer one: it is sent like the others.
   */
  takeRestored(position: number): boolean {
    return this.restored.delete(position);
  }

  /** The remote refused a resumed PUBLISH (PUBREC >= 0x80): the outbound sends it anew, to be retried. */
  refused(messageId: number): void {
    const position = this.positions.get(messageId);
    if (position !== undefined) this.restored.delete(position);
  }

  put(packet: Packet, cb: Done): this {
    const sendable = packet as Sendable;
    const id = sendable.messageId;
    this.packets.set(id, sendable);
    let position: number | undefined;
    if (sendable.cmd === 'publish') {
      position = sendable.qos === 2 ? this.sending : undefined;
      if (position === undefined) this.positions.delete(id);
      else this.positions.set(id, position);
    } else if (sendable.cmd === 'pubrel') position = this.positions.get(id);
    if (position === undefined) {
      cb?.();
      return this;
    }
    const row: InflightRow = { id: rowId(this.bridge, position), bridge: this.bridge, position, messageId: id, packet: storedPacket(sendable) };
    this.table.put(row.id, row).then(
      () => cb?.(),
      (error: Error) => {
        // Not sent: the packet stays in memory and goes out with the next connection.
        this.failed(`keeping a QoS 2 ${sendable.cmd} for the remote`, error);
        cb?.(error);
      },
    );
    return this;
  }

  del(packet: Pick<Packet, 'messageId'>, cb: PacketDone): this {
    const id = packet.messageId!;
    const stored = this.packets.get(id);
    if (!stored) {
      cb?.(new Error('missing packet'));
      return this;
    }
    this.packets.delete(id);
    const position = this.positions.get(id);
    if (position !== undefined) {
      this.positions.delete(id);
      this.completed.add(position);
    }
    cb?.(undefined, stored);
    return this;
  }

  get(packet: Pick<Packet, 'messageId'>, cb: PacketDone): this {
    const stored = this.packets.get(packet.messageId!);
    if (stored) cb(undefined, stored);
    else cb?.(new Error('missing packet'));
    return this;
  }

  createStream(): ReturnType<IStore['createStream']> {
    const values = [...this.packets.values()];
    let next = 0;
    return new Readable({
      objectMode: true,
      read() {
        this.push(next < values.length ? values[next++] : null);
      },
    }) as unknown as ReturnType<IStore['createStream']>;
  }

  /** The rows stay: they are what the next run resumes. */
  close(cb: Done): void {
    cb?.();
  }

  /** The cursor saved is `cursor`: rows of completed exchanges at or below it are not needed any more. */
  settled(cursor: number): void {
    for (const position of this.completed) {
      if (position > cursor) continue;
      this.completed.delete(position);
      this.table.delete(rowId(this.bridge, position)).catch((error: unknown) => this.failed('removing a completed QoS 2 exchange', error));
    }
  }

  /** Every row of a removed bridge. */
  static async forget(table: HarperTable<InflightRow>, bridge: string): Promise<void> {
    const ids: string[] = [];
    for await (const row of table.search({ conditions: [{ attribute: 'bridge', comparator: 'equals', value: bridge }] })) ids.push(row.id);
    for (const id of ids) await table.delete(id);
  }
}

function storedPacket(packet: Sendable): StoredPacket {
  if (packet.cmd === 'pubrel') return { cmd: 'pubrel', messageId: packet.messageId, qos: packet.qos ?? 1 };
  const stored: StoredPacket = { cmd: 'publish', messageId: packet.messageId, qos: packet.qos ?? 2, topic: packet.topic!, payload: Buffer.from(packet.payload ?? ''), retain: packet.retain === true };
  if (packet.properties) stored.properties = packet.properties;
  return stored;
}

/** Field by field (a stored record keeps its fields behind getters); a PUBLISH resent is a duplicate (DUP set). */
function readPacket(stored: StoredPacket): Sendable {
  if (stored.cmd === 'pubrel') return { cmd: 'pubrel', messageId: stored.messageId, qos: stored.qos } as unknown as Sendable;
  const packet = { cmd: 'publish', messageId: stored.messageId, qos: stored.qos, topic: stored.topic, payload: Buffer.from(stored.payload ?? Buffer.alloc(0)), retain: stored.retain === true, dup: true } as Record<string, unknown>;
  if (stored.properties) packet.properties = readProperties(stored.properties);
  return packet as unknown as Sendable;
}

/** MQTT 5 properties as sent: plain values, correlation data as bytes again. */
function readProperties(stored: Record<string, unknown>): Record<string, unknown> {
  const properties = JSON.parse(JSON.stringify(stored)) as Record<string, unknown>;
  const correlation = properties.correlationData as { data?: number[] } | Record<string, number> | undefined;
  if (correlation) properties.correlationData = Buffer.from(Array.isArray(correlation.data) ? correlation.data : Object.values(correlation as Record<string, number>));
  return properties;
}
