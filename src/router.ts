// Per-thread routing: the subscriptions of this thread's clients in one filter trie. Every message
// on the bus, from any thread, is matched once here and offered to each matching client once.
import type { Control } from './bus/bus.js';
import type { BusMessage, QoS } from './messages.js';
import { groupKey, SharedGroups } from './shared/groups.js';
import { FilterTrie } from './topics/trie.js';

export interface Subscriber {
  readonly clientId: string;
  readonly connectionId: string;
  offer(message: BusMessage, position: number, matching: Subscription[]): void;
  /** Another connection took over this client id [MQTT-3.1.4-2]; a clean start also discards the stored session. */
  evict(cleanStart: boolean): void;
}

export interface Subscription {
  readonly subscriber: Subscriber;
  readonly filter: string;
  qos: QoS;
  /** MQTT 5 No Local: do not send the client its own messages. */
  noLocal: boolean;
  /** MQTT 5 Retain As Published: keep the publisher's retain flag on live delivery. */
  retainAsPublished: boolean;
  /** MQTT 5 Subscription Identifier, sent with every message the subscription matches. */
  identifier?: number;
  /** For `$share/{group}/{filter}`: one member of the group gets each message. */
  shared?: { group: string; filter: string };
  /** While the retained messages of a new subscription are read, its live messages wait here (with every subscription they matched). */
  held: Array<[BusMessage, number, Subscription[]]> | null;
  /**
   * Messages just sent as retained to this subscription; the same message arriving live (it was
   * in flight while the subscription started) is not sent twice.
   */
  sentRetained: Set<string> | null;
}

/** Identifies a message in a topic table row and on the bus alike. */
export function messageKey(message: BusMessage): string {
  return `${message.timestamp}\u0000${message.clientId}\u0000${message.topic}`;
}

export class Router {
  /**
   * `onOfferFailed`: a client whose delivery threw; the message still reaches every other client.
   * `thread`: this thread's id, as shared-subscription memberships name it.
   * `onSharedUnserved`: a message whose chosen group member left before its leave was routed, with
   * no other member on its thread to take it.
   */
  constructor(
    private readonly onOfferFailed: (subscriber: Subscriber, error: unknown) => void = () => undefined,
    private readonly thread = 0,
    private readonly onSharedUnserved: (message: BusMessage) => void = () => undefined,
  ) {}

  private readonly trie = new FilterTrie<Subscription>();
  private readonly shared = new SharedGroups();
  /** This thread's shared subscriptions: group key -> member (connection id) -> subscription. */
  private readonly localShared = new Map<string, Map<string, Subscription>>();
  private readonly connected = new Map<string, Set<Subscriber>>();
  /** Bus position of the last message routed on this thread. */
  lastPosition = 0;

  get subscriptionCount(): number {
    return this.trie.size;
  }

  attach(subscriber: Subscriber): void {
    let set = this.connected.get(subscriber.clientId);
    if (!set) this.connected.set(subscriber.clientId, (set = new Set()));
    set.add(subscriber);
  }

  detach(subscriber: Subscriber): void {
    const set = this.connected.get(subscriber.clientId);
    if (set?.delete(subscriber) && set.size === 0) this.connected.delete(subscriber.clientId);
  }

  /** For a shared subscription, the caller also announces the join on the bus (see `membership`). */
  add(subscription: Subscription): void {
    const { shared } = subscription;
    if (!shared) return this.trie.add(subscription.filter, subscription);
    const key = groupKey(shared.group, shared.filter);
    let members = this.localShared.get(key);
    if (!members) this.localShared.set(key, (members = new Map()));
    members.set(subscription.subscriber.connectionId, subscription);
  }

  remove(subscription: Subscription): void {
    const { shared } = subscription;
    if (!shared) return void this.trie.remove(subscription.filter, subscription);
    const key = groupKey(shared.group, shared.filter);
    const members = this.localShared.get(key);
    if (members?.delete(subscription.subscriber.connectionId) && members.size === 0) this.localShared.delete(key);
  }

  /** The bus message that joins or leaves a shared group on every thread, in bus order. */
  membership(subscription: Subscription, join: boolean): BusMessage {
    const { group, filter } = subscription.shared!;
    return {
      topic: '',
      payload: Buffer.alloc(0),
      qos: 0,
      retain: false,
      clientId: subscription.subscriber.clientId,
      timestamp: Date.now(),
      membership: { group, filter, member: subscription.subscriber.connectionId, thread: this.thread, join },
    };
  }

  route(message: BusMessage, position: number): void {
    this.lastPosition = position;
    if (message.membership) return this.shared.apply(message.membership);
    if (this.shared.size > 0) this.routeShared(message, position);
    let first: Subscription | undefined;
    let grouped: Map<Subscriber, Subscription[]> | undefined;
    this.trie.match(message.topic, (subscription) => {
      if (!first) {
        first = subscription;
        return;
      }
      // Several matches: group by client so each client gets the message once, at the highest QoS.
      if (!grouped) {
        grouped = new Map([[first.subscriber, [first]]]);
      }
      const list = grouped.get(subscription.subscriber);
      if (list) list.push(subscription);
      else grouped.set(subscription.subscriber, [subscription]);
    });
    if (grouped) for (const [subscriber, subscriptions] of grouped) this.offer(subscriber, message, position, subscriptions);
    else if (first) this.offer(first.subscriber, message, position, [first]);
  }

  private offer(subscriber: Subscriber, message: BusMessage, position: number, matching: Subscription[]): void {
    try {
      subscriber.offer(message, position, matching);
    } catch (error) {
      this.onOfferFailed(subscriber, error);
    }
  }

  private routeShared(message: BusMessage, position: number): void {
    this.shared.choose(message.topic, (group, filter, member) => {
      if (member.thread !== this.thread) return;
      const members = this.localShared.get(groupKey(group, filter));
      // The chosen member may have just left (its leave is still on the bus): another member here takes it.
      const subscription = members?.get(member.id) ?? members?.values().next().value;
      if (subscription) this.offer(subscription.subscriber, message, position, [subscription]);
      else this.onSharedUnserved(message);
    });
  }

  control(notice: Control): void {
    if (notice.kind !== 'takeover') return;
    const set = this.connected.get(notice.clientId);
    if (!set) return;
    for (const subscriber of [...set]) if (subscriber.connectionId !== notice.connectionId) subscriber.evict(notice.cleanStart);
  }
}
