// A bare MQTT client that sends packets exactly as written, for what MQTT.js refuses to send.
import { connect as netConnect, type Socket } from 'node:net';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';
import { mqttPort, unique } from './mqtt.js';

export interface Connack {
  sessionPresent: boolean;
  returnCode?: number;
  reasonCode?: number;
  properties?: Record<string, unknown>;
}

export class RawClient {
  private readonly packets: Packet[] = [];
  /** What went over the wire, both ways, for tests that check the broker's byte counts. */
  readonly wire = { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0 };
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    readonly protocolVersion: 4 | 5,
  ) {
    const parser = makeParser({ protocolVersion });
    parser.on('packet', (packet) => {
      this.wire.packetsReceived++;
      this.packets.push(packet);
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('data', (data) => {
      this.wire.bytesReceived += data.length;
      parser.parse(data);
    });
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  /** MQTT 3.1.1 with clean session 0. */
  static connectPersistent(clientId: string): Promise<RawClient> {
    return RawClient.connect(4, clientId, false);
  }

  static async connect(protocolVersion: 4 | 5 = 4, clientId = unique('raw'), clean = true, port = mqttPort()): Promise<RawClient> {
    const { client, connack } = await RawClient.open(protocolVersion, { clean, clientId }, port);
    if ((connack.returnCode ?? connack.reasonCode ?? 0) !== 0) throw new Error('CONNECT refused');
    return client;
  }

  /** A connected socket that has sent nothing yet. */
  static async bare(protocolVersion: 4 | 5, port = mqttPort()): Promise<RawClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket, protocolVersion);
  }

  /** Sends a CONNECT with these fields (over defaults) and returns the CONNACK, whatever it says. */
  static async open(protocolVersion: 4 | 5, fields: Record<string, unknown> = {}, port = mqttPort()): Promise<{ client: RawClient; connack: Connack }> {
    const client = await RawClient.bare(protocolVersion, port);
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clean: true, clientId: unique('raw'), keepalive: 30, ...fields });
    const connack = (await client.next('connack')) as Connack;
    return { client, connack };
  }

  send(packet: object): void {
    const bytes = generate(packet as Packet, { protocolVersion: this.protocolVersion });
    this.wire.packetsSent++;
    this.wire.bytesSent += bytes.length;
    this.socket.write(bytes);
  }

  /** Writes bytes as they are (for packets no encoder would produce). */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next received packet of this type (waits for it). */
  async next(cmd: string, timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.packets.findIndex((p) => p.cmd === cmd);
      if (index >= 0) return this.packets.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  /** A graceful end: DISCONNECT, then the socket closes. */
  async disconnect(): Promise<void> {
    this.send({ cmd: 'disconnect' });
    this.socket.end();
    await this.closed;
  }
}
