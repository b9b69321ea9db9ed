// Payload bytes reach subscribers unchanged, whatever they are.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const payloads: Array<[string, Buffer]> = [
  ['JSON with odd whitespace', Buffer.from('{ "a" : 1.50 ,\n\t"b":[ 1,2 ] }')],
  ['JSON number', Buffer.from('25.000')],
  ['text', Buffer.from('hello, wörld ✓')],
  ['text that starts like JSON', Buffer.from('{not json')],
  ['every byte value', allBytes],
  ['invalid UTF-8', Buffer.from([0xc3, 0x28, 0xff, 0xfe])],
  ['empty', Buffer.alloc(0)],
  ['256 KiB', Buffer.alloc(256 * 1024, 7)],
];

describe.each(['live', 'retained'] as const)('%s payloads', (mode) => {
  it.each(payloads)('%s arrives byte for byte', async (_name, payload) => {
    const topic = `${unique('bytes')}/p`;
    const publisher = await connect();
    const subscriber = await connect();
    const received = record(subscriber);
    if (mode === 'live') {
      await subscribe(subscriber, topic, { qos: 1 });
      await publish(publisher, topic, payload, { qos: 1 });
    } else {
      if (payload.length === 0) return; // an empty retained payload clears instead (see retained tests)
      await publish(publisher, topic, payload, { qos: 1, retain: true });
      await subscribe(subscriber, topic, { qos: 1 });
    }
    await waitFor(() => received.length === 1, 'the message');
    expect(received[0]!.payload.equals(payload)).toBe(true);
    expect(received[0]!.retain).toBe(mode === 'retained');
  });
});
