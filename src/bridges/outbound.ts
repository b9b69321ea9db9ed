// Outbound delivery of one bridge: reads the message log from the cursor in bus order, sends what
// the rules match (at most `window` unacknowledged), and moves the cursor as the remote
// acknowledges. Refused messages are parked in the retries table without holding up the others.
// Nothing is copied per message: the log is the durable queue, the cursor the only state.
import type { MqttClient } from 'mqtt';
import type { LoggedMessage } from '../bus/bus.js';
import { log } from '../harper/log.js';
import { propertiesForDelivery, type BusMessage } from '../messages.js';
import { isRefusal, reasonText } from './backoff.js';
import { OutboundCursor, UNCOUNTED } from './cursor.js';
import type { InflightStore } from './inflightStore.js';
import type { Retries } from './retries.js';
import { isDurable, outboundFor, type RemotePublish } from './rules.js';
import type { BridgeSpec } from './spec.js';
import type { BridgeFigures, ParkedMessage } from './tables.js';

/** Log entries read into memory at a time. */
const READ_AHEAD = 2000;

export interface LogReader {
  /** Next position to be routed on this thread. */
  readonly position: number;
  /** Logged messages after `position`; starts once every message routed so far is committed (or given up). */
  since(position: number): AsyncIterable<LoggedMessage>;
}

export interface OutboundHooks {
  changed(): void;
  /** The cursor moved past backlog messages (acknowledged or parked). */
  passed(messages: number, bytes: number): void;
  /** False when this thread lost the bridge to another one. */
  mayRun(): boolean;
  failed(what: string, error: unknown): void;
}

type Sent = (error: (Error & { code?: number }) | undefined) => void;

export class Outbound {
  readonly cursor: OutboundCursor;
  private ahead: LoggedMessage[] = [];
  private aheadIndex = 0;
  /** Every position up to here has been read from the log into `ahead`. */
  private scanned: number;
  private pumping = false;
  private again = false;
  private window: number;
  private maxPacketSize = Infinity;
  /**
   * Set by 'connect', cleared by 'close'. MQTT.js is connected before it emits 'connect' and resends
   * its stored packets in between; messages published then would be queued behind them and stored
   * without their position.
   */
  private ready = false;
  caughtUp = false;
  stopped = false;

  constructor(
    private readonly spec: BridgeSpec,
    private readonly client: MqttClient,
    private readonly logReader: LogReader,
    private readonly retries: Retries,
    private readonly store: InflightStore,
    private readonly figures: BridgeFigures,
    private readonly hooks: OutboundHooks,
    cursor: number,
    /** Positions up to here may have been sent before a restart. */
    private readonly resendUpTo: number,
  ) {
    this.cursor = new OutboundCursor(cursor, cursor, (messages, bytes) => hooks.passed(messages, bytes));
    this.scanned = cursor;
    this.window = spec.inflight;
  }

  /** A new connection: the remote's Receive Maximum and Maximum Packet Size apply. */
  connected(properties: { receiveMaximum?: number; maximumPacketSize?: number } | undefined): void {
    this.window = Math.min(this.spec.inflight, properties?.receiveMaximum ?? Infinity);
    this.maxPacketSize = properties?.maximumPacketSize ?? Infinity;
    this.ready = true;
    this.pump();
  }

  disconnected(): void {
    this.ready = false;
  }

  private get sendable(): boolean {
    return this.ready && this.client.connected && !this.stopped && this.hooks.mayRun();
  }

  /** Reads and sends until the window is full or the log is exhausted; safe to call any time. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.run()
      .catch((error) => this.hooks.failed('reading the message log', error))
      .finally(() => {
        this.pumping = false;
        if (this.again && !this.stopped) this.pump();
      });
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      while (this.sendable) {
        while (this.aheadIndex < this.ahead.length && this.cursor.inflight < this.window) this.handle(this.ahead[this.aheadIndex++]!);
        if (this.aheadIndex < this.ahead.length) return; // the window is full: acknowledgements pump again
        this.ahead = [];
        this.aheadIndex = 0;
        if (this.scanned > this.cursor.readPosition) this.cursor.advanceRead(this.scanned, false);
        const frontier = this.logReader.position - 1;
        if (this.scanned >= frontier) {
          this.caughtUp = this.cursor.inflight === 0;
          this.hooks.changed();
          break;
        }
        this.caughtUp = false;
        await this.readAhead(frontier);
      }
    } while (this.again && !this.stopped);
  }

  private async readAhead(frontier: number): Promise<void> {
    const read: LoggedMessage[] = [];
    for await (const entry of this.logReader.since(this.scanned)) {
      if (entry.position > frontier) break;
      read.push(entry);
      if (read.length >= READ_AHEAD) break;
    }
    this.ahead = read;
    this.aheadIndex = 0;
    this.scanned = read.length >= READ_AHEAD ? read[read.length - 1]!.position : frontier;
  }

  private handle({ message, position }: LoggedMessage): void {
    // QoS 0 messages in the log (retained ones are logged with their row) were forwarded live, best effort.
    const remote = isDurable(message) ? outboundFor(this.spec.outbound, message, this.spec.name) : null;
    if (!remote) return this.cursor.advanceRead(position, false);
    this.figures.matched++;
    this.cursor.advanceRead(position, true, isDurable(message) ? message.payload.length : UNCOUNTED);
    // A QoS 2 exchange resumed from before a restart (MQTT.js finished it before 'connect'): not sent again.
    if (this.store.takeRestored(position)) return this.done(position);
    // QoS 2 messages sent before a restart were resumed (above); QoS 1 ones may now reach the remote twice.
    if (position <= this.resendUpTo && remote.qos < 2) this.figures.resentAfterRestart++;
    this.send(
      message,
      remote,
      1,
      (error) => {
        if (!error) return this.done(position);
        if (isRefusal(error.code)) return void this.park(position, message, remote, reasonText(error.code!, error.message));
        // Not a refusal (the client was ended): the message stays unacknowledged, sent again after a restart.
      },
      position,
    );
  }

  /**
   * Sends one message; `sent` gets the remote's answer (an error with `code` for a refusal).
   * `position`: its place in the log, kept with a QoS 2 exchange so a restart resumes it.
   */
  send(message: BusMessage, remote: RemotePublish, _attempt: number, sent: Sent, position?: number): void {
    const properties = this.spec.protocol === 5 ? propertiesForDelivery(message, Date.now()) : undefined;
    if (properties === null) return sent(undefined); // expired while it waited [MQTT-3.3.2-5]
    const size = message.payload.length + Buffer.byteLength(remote.topic) + 64;
    if (size > this.maxPacketSize) {
      const error: Error & { code?: number } = new Error(`larger than the remote's Maximum Packet Size ${this.maxPacketSize}`);
      error.code = 0x95;
      return sent(error);
    }
    this.figures.sent++;
    const options = properties ? { qos: remote.qos, retain: remote.retain, properties } : { qos: remote.qos, retain: remote.retain };
    // MQTT.js stores the packet synchronously inside publish() (once 'connect' came: see `ready`).
    this.store.sending = position;
    try {
      this.client.publish(remote.topic, message.payload, options, (error) => sent(error as (Error & { code?: number }) | undefined));
    } finally {
      this.store.sending = undefined;
    }
  }

  private done(position: number): void {
    this.figures.acknowledged++;
    this.cursor.finish(position);
    this.hooks.changed();
    this.pump();
  }

  private async park(position: number, message: BusMessage, remote: RemotePublish, reason: string): Promise<void> {
    this.figures.refused++;
    try {
      const outcome = await this.retries.refused(position, message, remote, 1, reason);
      if (outcome === 'dead-letter') this.deadLettered(remote, reason);
      this.cursor.finish(position);
      this.hooks.changed();
      this.pump();
    } catch (error) {
      // Not parked: the cursor stays below it, so it is sent again after a restart.
      this.hooks.failed(`parking a refused message for ${remote.topic}`, error);
    }
  }

  deadLettered(remote: RemotePublish, reason: string): void {
    this.figures.deadLettered++;
    log.warn(`bridge ${this.spec.name}: a message for ${remote.topic} was dead-lettered after ${this.spec.maxAttempts} attempts (${reason})`);
  }

  /** Sends the retries that are due, each once, outside the window (they are few). */
  async retryDue(): Promise<void> {
    if (!this.sendable) return;
    for (const row of await this.retries.due()) this.retry(row);
  }

  private retry(row: ParkedMessage): void {
    this.figures.retried++;
    this.send(row.message, row.remote, row.attempts + 1, (error) => {
      const answered = !error
        ? this.retries.acknowledged(row).then(() => {
            this.figures.acknowledged++;
          })
        : isRefusal(error.code)
          ? this.retries.refusedAgain(row, reasonText(error.code!, error.message)).then((outcome) => {
              this.figures.refused++;
              if (outcome === 'dead-letter') this.deadLettered(row.remote, reasonText(error.code!, error.message));
            })
          : Promise.resolve(this.retries.unanswered(row));
      answered.then(
        () => this.hooks.changed(),
        (failure) => this.hooks.failed(`recording the answer to a retry for ${row.remote.topic}`, failure),
      );
    });
  }
}
