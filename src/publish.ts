// Accepting a PUBLISH: find (or create) the topic's table, set or clear the retained row, put the
// message on the bus for every thread's subscribers, and record it in the history.
import type { Access } from './authorize.js';
import type { Bus } from './bus.js';
import type { History } from './history.js';
import type { BusMessage, ForwardedProperties, QoS } from './messages.js';
import type { RetainedStore } from './retained.js';
import type { TopicRegistry } from './tables/registry.js';
import { splitTopic } from './topics/naming.js';
import { isSysTopic, topicNameProblem } from './topics/validate.js';

export interface Inbound {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  clientId: string;
  properties?: ForwardedProperties;
}

export type RefusalReason = 'invalid-topic' | 'sys-topic' | 'not-authorized';

export class PublishRefused extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** Why a client may not publish to `topic`, or null. */
export function publishProblem(topic: string): PublishRefused | null {
  const problem = topicNameProblem(topic);
  if (problem) return new PublishRefused('invalid-topic', problem);
  if (isSysTopic(topic)) return new PublishRefused('sys-topic', '$SYS topics are read-only');
  return null;
}

export class Publisher {
  constructor(
    private readonly registry: TopicRegistry,
    private readonly retained: RetainedStore,
    private readonly bus: Bus,
    private readonly history: History | null,
  ) {}

  /**
   * Resolves once every write is committed. The writes start before the first await when the
   * topic's table is already known, so messages of one client keep their order.
   */
  async publish(inbound: Inbound, access: Access): Promise<void> {
    const refused = publishProblem(inbound.topic);
    if (refused) throw refused;
    const { prefix, row } = splitTopic(inbound.topic);
    if (!access.allows(this.registry.nameFor(prefix), 'insert')) {
      throw new PublishRefused('not-authorized', `not allowed to publish to ${inbound.topic}`);
    }
    const table = this.registry.get(prefix) ?? (await this.registry.ensure(prefix, inbound.clientId));
    const message: BusMessage = {
      topic: inbound.topic,
      payload: inbound.payload,
      qos: inbound.qos,
      retain: inbound.retain,
      clientId: inbound.clientId,
      timestamp: Date.now(),
    };
    if (inbound.properties) message.properties = inbound.properties;
    const writes: Array<Promise<unknown>> = [];
    if (message.retain) writes.push(this.retained.set(table, row, message));
    writes.push(this.bus.publish(message));
    if (this.history) writes.push(this.history.record(message));
    await Promise.all(writes);
  }
}
