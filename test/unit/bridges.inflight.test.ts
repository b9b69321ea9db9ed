import { describe, expect, it } from 'vitest';
import { InflightStore } from '../../src/bridges/inflightStore.js';
import type { HarperTable } from '../../src/harper/tables.js';
import type { InflightRow } from '../../src/bridges/tables.js';

/** Just what the store uses of a HarperDB table. */
function memoryTable(rows: InflightRow[] = []) {
  const map = new Map(rows.map((row) => [row.id, row]));
  const table = {
    map,
    put: async (id: string, row: InflightRow) => void map.set(id, structuredClone(row)),
    delete: async (id: string) => void map.delete(id),
    async *search(query: { conditions: Array<{ value: string }> }) {
      for (const row of map.values()) if (row.bridge === query.conditions[0]!.value) yield row;
    },
  };
  return table as unknown as HarperTable<InflightRow> & { map: Map<string, InflightRow> };
}

const put = (store: InflightStore, packet: object) => new Promise<void>((resolve, reject) => store.put(packet as never, (error) => (error ? reject(error) : resolve())));
const del = (store: InflightStore, messageId: number) => new Promise<void>((resolve) => store.del({ messageId }, () => resolve()));
const streamed = async (store: InflightStore) => {
  const packets: Array<Record<string, unknown>> = [];
  for await (const packet of store.createStream() as unknown as AsyncIterable<Record<string, unknown>>) packets.push(packet);
  return packets;
};
const publish = (messageId: number, qos: number) => ({ cmd: 'publish', messageId, qos, topic: 't', payload: Buffer.from('p'), retain: false, dup: false });
const noError = () => undefined;

describe('bridge in-flight store', () => {
  it('keeps QoS 2 exchanges in the table until the saved cursor is past them; QoS 1 in memory only', async () => {
    const table = memoryTable();
    const store = await InflightStore.restore(table, 'b', 0, noError);
    store.sending = 5;
    await put(store, publish(1, 2));
    store.sending = 6;
    await put(store, publish(2, 1));
    store.sending = undefined;
    expect([...table.map.keys()]).toEqual(['b/5']);
    await put(store, { cmd: 'pubrel', messageId: 1, qos: 2 });
    expect(table.map.get('b/5')).toMatchObject({ position: 5, messageId: 1, packet: { cmd: 'pubrel', messageId: 1 } });
    await del(store, 1);
    store.settled(4);
    await Promise.resolve();
    expect(table.map.has('b/5')).toBe(true); // a restart now must not send position 5 as new
    store.settled(5);
    await Promise.resolve();
    expect(table.map.has('b/5')).toBe(false);
  });

  it('restores what was in flight, in position order, PUBLISH with DUP and PUBREL as such', async () => {
    const row = (position: number, messageId: number, cmd: 'publish' | 'pubrel') => ({ id: `b/${position}`, bridge: 'b', position, messageId, packet: cmd === 'publish' ? { cmd, messageId, qos: 2, topic: `t/${position}`, payload: Buffer.from(String(position)), retain: false } : { cmd, messageId, qos: 2 } });
    const table = memoryTable([row(9, 3, 'publish'), row(3, 1, 'pubrel'), row(6, 1, 'pubrel'), row(7, 1, 'publish'), row(8, 2, 'pubrel'), { ...row(1, 5, 'publish'), bridge: 'other' }]);
    const store = await InflightStore.restore(table, 'b', 4, noError);
    // 3 is at or below the cursor: done; 6 shares id 1 with the newer 7: done (an id is reused only once completed).
    expect(table.map.has('b/3')).toBe(false);
    expect(store.resuming).toBe(3);
    expect((await streamed(store)).map((p) => [p.cmd, p.messageId, p.dup ?? null])).toEqual([
      ['publish', 1, true],
      ['pubrel', 2, null],
      ['publish', 3, true],
    ]);
    expect([6, 7, 8, 9, 10].map((p) => store.takeRestored(p))).toEqual([true, true, true, true, false]);
    expect(store.takeRestored(7)).toBe(false);
    // Completing a resumed exchange lets its row go with the cursor.
    await del(store, 1);
    store.settled(7);
    await Promise.resolve();
    expect([...table.map.keys()].sort()).toEqual(['b/1', 'b/8', 'b/9']);
  });

  it('lets a resumed PUBLISH the remote refused be sent again', async () => {
    const table = memoryTable([{ id: 'b/5', bridge: 'b', position: 5, messageId: 4, packet: { cmd: 'publish', messageId: 4, qos: 2, topic: 't', payload: Buffer.from('x'), retain: false } }]);
    const store = await InflightStore.restore(table, 'b', 0, noError);
    store.refused(4);
    expect(store.takeRestored(5)).toBe(false);
  });
});
