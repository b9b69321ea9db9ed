// What crosses the wire, for the $SYS statistics. HarperDB parses and generates the packets; this
// only needs where each packet ends, which its fixed header says: one byte of type and flags, then
// the Remaining Length in 1 to 4 bytes of 7 bits each [MQTT-2.2.3]. Pure code, no HarperDB.

const PUBLISH = 3;
const MAX_LENGTH_BYTES = 4;

/** Counts the packets in a byte stream that arrives in arbitrary chunks. */
export class FrameCounter {
  private atBoundary = true;
  private readingLength = false;
  private lengthBytes = 0;
  private multiplier = 1;
  private remaining = 0;

  /** True when the next byte starts a packet. */
  get boundary(): boolean {
    return this.atBoundary;
  }

  /** The number of packets that `chunk` completes. */
  push(chunk: Uint8Array): number {
    let completed = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.atBoundary) {
        i++; // type and flags
        this.atBoundary = false;
        this.readingLength = true;
        this.lengthBytes = 0;
        this.multiplier = 1;
        this.remaining = 0;
      } else if (this.readingLength) {
        const byte = chunk[i++]!;
        this.remaining += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        // A fifth length byte is malformed; HarperDB closes such a connection, so stop counting.
        if (byte & 0x80 && this.lengthBytes < MAX_LENGTH_BYTES) continue;
        this.readingLength = false;
        if (this.remaining === 0) {
          completed++;
          this.atBoundary = true;
        }
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          completed++;
          this.atBoundary = true;
        }
      }
    }
    return completed;
  }
}

export function isPublish(packet: Uint8Array): boolean {
  return packet.length > 0 && packet[0]! >> 4 === PUBLISH;
}

/**
 * Application payload bytes of a whole PUBLISH packet: what follows the topic name, the packet
 * identifier (QoS > 0) and, in MQTT 5, the properties [MQTT-3.3.2, MQTT-3.3.3].
 */
export function publishPayloadBytes(packet: Uint8Array, protocolVersion: number): number {
  let i = 1;
  let remaining = 0;
  let multiplier = 1;
  for (let byte = 0x80; byte & 0x80 && i <= MAX_LENGTH_BYTES && i < packet.length; multiplier *= 128) {
    byte = packet[i++]!;
    remaining += (byte & 0x7f) * multiplier;
  }
  const end = i + remaining;
  if (i + 2 > packet.length) return 0;
  i += 2 + ((packet[i]! << 8) | packet[i + 1]!);
  if ((packet[0]! >> 1) & 0x03) i += 2;
  if (protocolVersion === 5) {
    let propertiesLength = 0;
    multiplier = 1;
    for (let byte = 0x80; byte & 0x80 && i < packet.length; multiplier *= 128) {
      byte = packet[i++]!;
      propertiesLength += (byte & 0x7f) * multiplier;
    }
    i += propertiesLength;
  }
  return Math.max(0, end - i);
}
