// Accepting a PUBLISH: set or clear the retained row (creating the topic's table if it is the
// first retained message there), put the message on the bus for every thread's subscribers, and
// record it in the history.
import type { Access } from './authorize.js';
import type { Bus } from './bus/bus.js';
import type { CommitWrite } from './bus/log.js';
import type { History } from './history/store.js';
import type { BusMessage, ForwardedProperties, QoS } from './messages.js';
import type { RetainedPlace, RetainedStore } from './retained.js';
import type { TableBudget } from './tables/creationBudget.js';
import { isSysTopic, topicNameProblem } from './topics/validate.js';

export interface Inbound {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  clientId: string;
  properties?: ForwardedProperties;
}

export interface PublishOptions {
  /** Written to the message log whatever its QoS: committed (durable) when the promise resolves. */
  durable?: boolean;
  /** Committed in the same transaction as the message (implies durable); see Bus.publish. */
  commitWith?: readonly CommitWrite[];
}

export type RefusalReason = 'invalid-topic' | 'sys-topic' | 'not-authorized' | 'quota-exceeded';

export class PublishRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A check that may refuse a client's message before anything is written (a bridge's full backlog).
 * Not applied to `durable` (sources) or `commitWith` publishes.
 */
export type PublishGate = (inbound: Inbound) => PublishRefused | null;

/** Why a client may not publish to `topic`, or null. */
export function publishProblem(topic: string): PublishRefused | null {
  const problem = topicNameProblem(topic);
  if (problem) return new PublishRefused('invalid-topic', problem);
  if (isSysTopic(topic)) return new PublishRefused('sys-topic', '$SYS topics are read-only');
  return null;
}

export class Publisher {
  private readonly gates: PublishGate[] = [];

  constructor(
    private readonly retained: RetainedStore,
    private readonly bus: Bus,
    private readonly history: History | null,
  ) {}

  addGate(gate: PublishGate): void {
    this.gates.push(gate);
  }

  /**
   * True when publishing `inbound` first has to create a table (a retained message under a prefix
   * that has none yet): the caller keeps its later messages behind it, so that none overtakes it.
   */
  mustWait(inbound: Inbound): boolean {
    return inbound.retain && inbound.payload.length > 0 && this.retained.placeOf(inbound.topic) === null;
  }

  /**
   * Resolves once every write is committed. When no table has to be created, the writes start
   * before the first await, so messages of one client keep their order.
   */
  async publish(inbound: Inbound, access: Access, budget?: TableBudget, options: PublishOptions = {}): Promise<void> {
    const refused = publishProblem(inbound.topic);
    if (refused) throw refused;
    if (!access.mayWrite(inbound.topic, () => this.retained.tableName(inbound.topic))) {
      throw new PublishRefused('not-authorized', `not allowed to publish to ${inbound.topic}`);
    }
    if (!options.durable && !options.commitWith) {
      for (const gate of this.gates) {
        const refusal = gate(inbound);
        if (refusal) throw refusal;
      }
    }
    let place: RetainedPlace | null = null;
    if (inbound.retain) {
      place = this.retained.placeOf(inbound.topic);
      // Nothing is written (nor delivered) until the table exists, so a refusal refuses it all.
      if (!place && inbound.payload.length > 0) place = await this.retained.prepare(inbound.topic, inbound.clientId, budget);
    }
    const message: BusMessage = {
      topic: inbound.topic,
      payload: inbound.payload,
      qos: inbound.qos,
      retain: inbound.retain,
      clientId: inbound.clientId,
      timestamp: Date.now(),
    };
    if (inbound.properties) message.properties = inbound.properties;
    // QoS 1/2 messages are durable once in the message log; the history is not on the way to PUBACK.
    this.history?.record(message);
    const durable = message.qos > 0 || options.durable === true || options.commitWith !== undefined;
    if (place && options.commitWith) {
      // The retained row first: if the process dies before the message commits, the change is
      // published again and rewrites the same row, rather than the row missing a published change.
      await this.retained.write(place, message);
      return this.bus.publish(message, true, options.commitWith);
    }
    if (place && place.database === this.bus.database) {
      // The row commits with the message's log record, and the message is routed after that: a
      // subscriber arriving on another thread in between finds the row, or gets the message live.
      return this.bus.publish(message, true, [this.retained.commitWrite(place, message)]);
    }
    const routed = this.bus.publish(message, durable, options.commitWith);
    if (place) await Promise.all([this.retained.write(place, message), routed]);
    else await routed;
  }
}
