// Cutting a byte stream into whole MQTT packets. The fixed header says how long a packet is
// (one byte of type and flags, then the Remaining Length in 1 to 4 bytes of 7 bits each
// [MQTT-2.2.3]), so a packet over the size limit is refused as soon as its header arrives, before
// any of it is buffered. Pure code, no HarperDB.
import { isUtf8 } from 'node:buffer';

export type FrameProblem = { kind: 'too-large'; size: number } | { kind: 'malformed'; reason: string };

export class FrameReader {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  /** `maxPacketSize`: the largest whole packet accepted, in bytes. */
  constructor(public maxPacketSize: number) {}

  /**
   * Adds a chunk and calls `onPacket` for each whole packet it completes (a view into the input
   * where possible: copy it to keep it). Returns a problem instead when the stream cannot go on,
   * or 'more' when `timeIsUp` stopped it before the end of its bytes: push an empty chunk to go on.
   */
  push(chunk: Buffer, onPacket: (packet: Buffer) => void, timeIsUp: () => boolean = () => false): FrameProblem | 'more' | null {
    let data: Buffer;
    if (this.bufferedBytes === 0) data = chunk;
    else {
      this.buffered.push(chunk);
      data = Buffer.concat(this.buffered, this.bufferedBytes + chunk.length);
      this.buffered = [];
      this.bufferedBytes = 0;
    }
    let offset = 0;
    while (offset < data.length) {
      const header = readFixedHeader(data, offset);
      if (header === null) break; // the length is not complete yet
      if ('reason' in header) return { kind: 'malformed', reason: header.reason };
      const size = header.headerBytes + header.remainingLength;
      if (size > this.maxPacketSize) return { kind: 'too-large', size };
      if (offset + size > data.length) break;
      onPacket(data.subarray(offset, offset + size));
      offset += size;
      if (offset < data.length && timeIsUp()) {
        this.keep(data.subarray(offset));
        return 'more';
      }
    }
    if (offset < data.length) this.keep(data.subarray(offset));
    return null;
  }

  private keep(rest: Buffer): void {
    this.buffered.push(rest);
    this.bufferedBytes = rest.length;
  }
}

/** The fixed header at `offset`: its length and the Remaining Length; null when incomplete. */
export function readFixedHeader(data: Buffer, offset: number): { headerBytes: number; remainingLength: number } | { reason: string } | null {
  let remainingLength = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (offset + i >= data.length) return null;
    const byte = data[offset + i]!;
    remainingLength += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { headerBytes: 1 + i, remainingLength };
    multiplier *= 128;
  }
  return { reason: 'Remaining Length longer than 4 bytes' };
}

/** A UTF-8 string field at `offset` (2-byte length, then the bytes): its end, or -1 when it does not fit. */
function stringEnd(packet: Buffer, offset: number): number {
  if (offset + 2 > packet.length) return -1;
  const end = offset + 2 + packet.readUInt16BE(offset);
  return end <= packet.length ? end : -1;
}

/** A Variable Byte Integer at `offset`: its value and end. */
function varint(packet: Buffer, offset: number): { value: number; end: number } | null {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4 && offset + i < packet.length; i++) {
    const byte = packet[offset + i]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, end: offset + i + 1 };
    multiplier *= 128;
  }
  return null;
}

const invalid = (bytes: Buffer) => !isUtf8Strict(bytes);

/**
 * Well-formed UTF-8 [MQTT-1.5.4-1]: Node's isUtf8 refuses ill-formed sequences and encoded
 * surrogates (ED A0 80); U+0000 is refused as well [MQTT-1.5.4-2].
 */
export function isUtf8Strict(bytes: Buffer): boolean {
  return bytes.indexOf(0) === -1 && isUtf8(bytes);
}

/**
 * For a whole PUBLISH, SUBSCRIBE or UNSUBSCRIBE packet: whether every topic name or filter in it is
 * well-formed UTF-8 without U+0000. A Malformed Packet otherwise: the connection is closed.
 */
export function topicsWellFormed(packet: Buffer, protocolVersion: number): boolean {
  const type = packet[0]! >> 4;
  const header = readFixedHeader(packet, 0);
  if (header === null || 'reason' in header) return false;
  let offset = header.headerBytes;
  if (type === 3) {
    const end = stringEnd(packet, offset);
    return end !== -1 && !invalid(packet.subarray(offset + 2, end));
  }
  if (type !== 8 && type !== 10) return true;
  offset += 2; // packet identifier
  if (protocolVersion === 5) {
    const properties = varint(packet, offset);
    if (!properties) return false;
    offset = properties.end + properties.value;
  }
  while (offset < packet.length) {
    const end = stringEnd(packet, offset);
    if (end === -1 || invalid(packet.subarray(offset + 2, end))) return false;
    offset = end + (type === 8 ? 1 : 0); // SUBSCRIBE: an options byte follows each filter
  }
  return true;
}
