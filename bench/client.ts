// A lean MQTT client for benchmarks: raw packets over a socket (mqtt-packet), so the client
// costs as little CPU as possible on a machine it shares with HarperDB.
import { connect as netConnect, type Socket } from 'node:net';
import { generate, parser as makeParser, type Packet } from 'mqtt-packet';

type QoS = 0 | 1 | 2;
export type OnMessage = (topic: string, payload: Buffer) => void;

export class BenchClient {
  private nextId = 1;
  private readonly pending = new Map<number, () => void>();
  private readonly waiters = new Map<string, Array<(packet: Packet) => void>>();
  private onMessage: OnMessage = () => undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    const parser = makeParser({ protocolVersion: 4 });
    parser.on('packet', (packet) => this.receive(packet));
    socket.on('data', (data) => parser.parse(data));
    socket.on('error', () => undefined);
  }

  static async connect(port: number, clientId: string, clean = true, login?: { username: string; password: string }): Promise<BenchClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new BenchClient(socket);
    const connack = client.next('connack');
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 60, ...(login && { username: login.username, password: Buffer.from(login.password) }) });
    const code = ((await connack) as { returnCode: number }).returnCode;
    if (code !== 0) {
      socket.destroy();
      throw new Error(`CONNECT refused with ${code}`);
    }
    return client;
  }

  private send(packet: object): boolean {
    return this.socket.write(generate(packet as Packet, { protocolVersion: 4 }));
  }

  private next(cmd: string): Promise<Packet> {
    return new Promise((resolve) => {
      const list = this.waiters.get(cmd) ?? [];
      list.push(resolve);
      this.waiters.set(cmd, list);
    });
  }

  private receive(packet: Packet): void {
    switch (packet.cmd) {
      case 'publish': {
        const { topic, payload, qos, messageId } = packet as { topic: string; payload: Buffer; qos: QoS; messageId: number };
        this.onMessage(topic, payload);
        if (qos === 1) this.send({ cmd: 'puback', messageId });
        if (qos === 2) this.send({ cmd: 'pubrec', messageId });
        return;
      }
      case 'pubrel':
        this.send({ cmd: 'pubcomp', messageId: (packet as { messageId: number }).messageId });
        return;
      case 'pubrec':
        this.send({ cmd: 'pubrel', messageId: (packet as { messageId: number }).messageId });
        return;
      case 'puback':
      case 'pubcomp': {
        const id = (packet as { messageId: number }).messageId;
        this.pending.get(id)?.();
        this.pending.delete(id);
        return;
      }
      default: {
        const waiter = this.waiters.get(packet.cmd)?.shift();
        waiter?.(packet);
      }
    }
  }

  listen(onMessage: OnMessage): void {
    this.onMessage = onMessage;
  }

  async subscribe(filter: string, qos: QoS = 0): Promise<number> {
    const suback = this.next('suback');
    this.send({ cmd: 'subscribe', messageId: this.id(), subscriptions: [{ topic: filter, qos }] });
    return ((await suback) as { granted: number[] }).granted[0]!;
  }

  /** Resolves when the broker acknowledged (QoS 1/2) or the bytes left (QoS 0). */
  publish(topic: string, payload: Buffer, qos: QoS, retain = false): Promise<void> {
    if (qos === 0) {
      const flushed = this.send({ cmd: 'publish', topic, payload, qos, retain, dup: false });
      return flushed ? Promise.resolve() : new Promise((resolve) => this.socket.once('drain', () => resolve()));
    }
    const messageId = this.id();
    return new Promise((resolve) => {
      this.pending.set(messageId, resolve);
      this.send({ cmd: 'publish', topic, payload, qos, retain, dup: false, messageId });
    });
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = id === 65535 ? 1 : id + 1;
    return id;
  }

  close(): void {
    this.socket.end(generate({ cmd: 'disconnect' } as Packet));
    this.socket.destroy();
  }
}
