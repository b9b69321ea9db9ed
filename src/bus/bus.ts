// The message bus between worker threads. Messages a thread accepts in one event-loop turn form a
// batch with consecutive global sequence numbers; the batch's QoS 1/2 messages are written to the
// message log as one record (their only durable write), and the batch is broadcast to the other
// threads and routed on this one: after the commit, or while it runs when only QoS 1 messages are
// logged (see mayRouteBeforeCommit). Every thread routes in sequence order (a reorder buffer holds
// batches that overtook an earlier one), so all clients see one order, and positions in it are
// what persistent sessions remember and replay from the log. Publishers are acknowledged after the
// commit either way.
import { BroadcastChannel } from 'node:worker_threads';
import { OPTIMISTIC_WRITES } from '../harper/batch.js';
import { log } from '../harper/log.js';
import { nextReadSnapshot } from '../harper/readSnapshot.js';
import { sharedBuffer } from '../harper/sharedMemory.js';
import type { HarperTable } from '../harper/tables.js';
import { readBusMessage, type BusMessage } from '../messages.js';
import { MAX_BATCH, MessageLog, type CommitWrite } from './log.js';
import { ReorderBuffer, type Batch, type Reservation } from './reorder.js';
import { Sequence } from './sequence.js';
import { mayRouteBeforeCommit, Uncommitted } from './uncommitted.js';

/** Notices between threads about sessions (not delivered to MQTT clients). */
export type Control = { kind: 'takeover'; clientId: string; connectionId: string; cleanStart: boolean };

export interface LoggedMessage {
  message: BusMessage;
  position: number;
}

/** `committing`: the batch was sent before its log record committed; `committed` follows from that thread. */
type Wire = { batch: Batch<BusMessage>; committing?: number } | { committed: number } | { reserve: Reservation } | { control: Control };

/**
 * Routing waits for numbers another thread took as long as that thread lives (its commit may be
 * slow); numbers nobody announced are given up after a while, and so, with an error in the log, are
 * numbers a live thread never delivered. Given-up numbers are routed from what the log has.
 */
const UNANNOUNCED_WAIT_MS = 5000;
const ANNOUNCED_WAIT_MS = 30_000;
const GAP_CHECK_MS = 250;

interface Pending {
  message: BusMessage;
  durable: boolean;
  commitWith: readonly CommitWrite[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Bus {
  private readonly channel: BroadcastChannel;
  private reorder: ReorderBuffer<BusMessage> | null = null;
  private onMessage: (message: BusMessage, position: number) => void = () => undefined;
  private onControl: (notice: Control) => void = () => undefined;
  private pending: Pending[] = [];
  /** Batches routed here whose log record is still being committed. */
  private readonly uncommitted = new Uncommitted();
  /** Writes committed with the pending batch's log record (retained rows, source positions). */
  private pendingWrites = 0;
  private flushScheduled = false;

  private constructor(
    private readonly log: MessageLog,
    private readonly sequence: Sequence,
    /** The database of the message log: writes committed with a batch must be in it. */
    readonly database: string,
    private readonly threadId: number,
    private readonly isLive: (threadId: number) => boolean,
  ) {
    this.channel = new BroadcastChannel(`harper-mqtt-bridge/bus/${database}`);
    this.channel.onmessage = (event) => this.receive((event as { data: Wire }).data);
    (this.channel as unknown as { unref?: () => void }).unref?.();
  }

  /** `isLive(threadId)`: whether a worker thread of this process is still running. */
  static async open(database: string, logTtlSeconds: number, threadId: number, isLive: (threadId: number) => boolean): Promise<Bus> {
    const log = await MessageLog.open(database, logTtlSeconds);
    const sequence = new Sequence(new BigInt64Array(sharedBuffer(log.table, 'harper-mqtt-bridge/sequence', 8)));
    sequence.seed();
    return new Bus(log, sequence, database, threadId, isLive);
  }

  /** A table whose store gives memory shared by all threads (for the counters). */
  get table(): HarperTable<object> {
    return this.log.table as unknown as HarperTable<object>;
  }

  /** The position of the next message this thread will route: every earlier one has been. */
  get position(): number {
    return this.reorder?.position ?? this.sequence.peek();
  }

  /**
   * Accepts a message: it gets its sequence number at the end of this event-loop turn, with the
   * others of the turn. `durable` (QoS 1/2) messages are in the log when the promise resolves;
   * every message is then routed on every thread. `commitWith` (durable messages only) is written
   * in the same transaction as the message.
   */
  publish(message: BusMessage, durable: boolean, commitWith: readonly CommitWrite[] = []): Promise<void> {
    return new Promise((resolve, reject) => {
      const alongside = durable ? commitWith : [];
      this.pending.push({ message, durable, commitWith: alongside, resolve, reject });
      this.pendingWrites += alongside.length;
      // The log record and its writes stay one small transaction (see OPTIMISTIC_WRITES).
      if (this.pending.length >= MAX_BATCH || this.pendingWrites >= OPTIMISTIC_WRITES - 1) void this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  control(notice: Control): void {
    this.onControl(notice);
    this.channel.postMessage({ control: notice } satisfies Wire);
  }

  /** Routes, in sequence order, every message published from now on by any thread. */
  listen(onMessage: (message: BusMessage, position: number) => void, onControl: (notice: Control) => void): void {
    this.onMessage = onMessage;
    this.onControl = onControl;
    this.reorder = new ReorderBuffer(this.sequence.peek(), (position, message) => this.onMessage(message, position));
    setInterval(() => void this.fillGap(), GAP_CHECK_MS).unref();
  }

  /**
   * Logged (QoS 1/2) messages after `position`, in order. The read starts once every batch routed
   * so far is in the log, and in a snapshot taken after that, so it holds every logged message
   * below the position routed then.
   */
  async *since(position: number): AsyncIterable<LoggedMessage> {
    await this.uncommitted.all();
    await nextReadSnapshot();
    for await (const { seq, message } of this.log.since(position)) yield { message, position: seq };
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending.filter(stillWanted);
    this.pending = [];
    this.pendingWrites = 0;
    if (batch.length === 0) return;
    const start = this.sequence.allocate(batch.length);
    const items: Array<BusMessage | null> = batch.map((p) => p.message);
    const durable: Array<[number, BusMessage]> = [];
    const alongside: CommitWrite[] = [];
    batch.forEach((p, i) => {
      if (p.durable) durable.push([start + i, p.message]);
      alongside.push(...p.commitWith);
    });
    // Subscribers need not wait for the commit of QoS 1 messages: a publisher that is not
    // acknowledged sends again. This takes the commit (about half the median latency) off delivery.
    const early = mayRouteBeforeCommit(batch);
    if (early) this.route({ start, items }, true);
    else if (durable.length > 0) {
      // Others now wait for these numbers until the commit: tell them who is bringing them.
      const reservation: Reservation = { start, count: batch.length, owner: this.threadId };
      this.channel.postMessage({ reserve: reservation } satisfies Wire);
      this.reorder?.reserve(reservation);
    }
    let failure: unknown = null;
    if (durable.length > 0) {
      try {
        await this.log.append(start, durable, alongside);
      } catch (error) {
        failure = error;
        const fate = early ? 'subscribers online have them; their publishers are told and may send them again' : 'their publishers are told';
        log.error(`could not write ${durable.length} messages to the message log; ${fate}`, error);
        if (!early) batch.forEach((p, i) => p.durable && (items[i] = null)); // not routed: they were not accepted
      }
    }
    if (early) this.settle(start);
    else this.route({ start, items }, false);
    for (const p of batch) {
      if (failure && p.durable) p.reject(failure);
      else p.resolve();
    }
  }

  /** Sends a batch to the other threads and routes it here; `committing`: its log record is not committed yet. */
  private route(wire: Batch<BusMessage>, committing: boolean): void {
    if (committing) {
      this.uncommitted.routed(wire.start, this.threadId);
      this.channel.postMessage({ batch: wire, committing: this.threadId } satisfies Wire);
    } else {
      this.channel.postMessage({ batch: wire } satisfies Wire);
    }
    this.reorder?.add(wire);
  }

  /** The log record of a batch routed early is committed (or failed): readers of the log may go on. */
  private settle(start: number): void {
    this.channel.postMessage({ committed: start } satisfies Wire);
    this.uncommitted.settled(start);
  }

  private receive(data: Wire): void {
    if ('control' in data) return this.onControl(data.control);
    if ('reserve' in data) return this.reorder?.reserve(data.reserve);
    if ('committed' in data) return this.uncommitted.settled(data.committed);
    if (data.committing !== undefined) this.uncommitted.routed(data.batch.start, data.committing);
    // Structured cloning turned Buffers into Uint8Arrays: rebuild plain messages.
    const items = data.batch.items.map((item) => (item ? readBusMessage(item) : null));
    this.reorder?.add({ start: data.batch.start, items });
  }

  /** Numbers whose thread died before broadcasting them (or never said it took them): routed from the log. */
  private async fillGap(): Promise<void> {
    for (const { start, owner } of this.uncommitted.abandon(this.isLive, ANNOUNCED_WAIT_MS)) {
      log.warn(`batch ${start}: thread ${owner} ${this.isLive(owner) ? 'never reported its commit' : 'died before reporting its commit'}; the log may lack it`);
    }
    const stall = this.reorder?.stall();
    if (!stall) return;
    const givenUp = stall.owner === null ? stall.sinceMs > UNANNOUNCED_WAIT_MS : !this.isLive(stall.owner) || stall.sinceMs > ANNOUNCED_WAIT_MS;
    if (!givenUp) return;
    const found = await this.log.range(stall.from, stall.to);
    const items = Array.from({ length: stall.to - stall.from }, (_, i) => found.get(stall.from + i) ?? null);
    const why = stall.owner === null ? 'no thread announced them' : this.isLive(stall.owner) ? `thread ${stall.owner} never delivered them` : `thread ${stall.owner} died`;
    (stall.owner !== null && this.isLive(stall.owner) ? log.error : log.warn)(`messages ${stall.from}..${stall.to - 1}: ${why}; routing the ${found.size} the log has`);
    this.reorder?.add({ start: stall.from, items });
  }
}

/** A message whose commitWith says it may no longer commit (its source moved to another thread) is refused here, alone. */
function stillWanted(pending: Pending): boolean {
  if (pending.commitWith.every((write) => write.valid?.() !== false)) return true;
  pending.reject(new Error('not published: its source is no longer run by this thread'));
  return false;
}
