// Per-thread routing: the subscriptions of this thread's clients in one filter trie. Every message
// on the bus, from any thread, is matched once here and offered to each matching client once.
import type { Control } from './bus/bus.js';
import type { BusMessage, QoS, Regroup } from './messages.js';
import { groupKey, SharedGroups, type Member } from './shared/groups.js';
import { FilterTrie } from './topics/trie.js';

export interface Subscriber {
  readonly clientId: string;
  readonly connectionId: string;
  /** A message with `regroup` set was handed back to its group and comes at its own, earlier, position. */
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

/** A message is handed back to its group at most this many times (each time a member left under it). */
export const MAX_REGROUP_HOPS = 8;

/** Where a message goes back to: the thread handing it back is the router's own. */
type HandBack = Omit<Regroup, 'from'>;

/** Identifies a message in a topic table row and on the bus alike. */
export function messageKey(message: BusMessage): string {
  return `${message.timestamp}\u0000${message.clientId}\u0000${message.topic}`;
}

export class Router {
  /**
   * `onOfferFailed`: a client whose delivery threw; the message still reaches every other client.
   * `thread`: this thread's id, as shared-subscription memberships name it.
   * `handBack`: publishes on the bus a group's message that no member here could take (see `handBack`).
   * `onSharedDropped`: a group's message that no member took: QoS 0, or no member left to hand it to.
   */
  constructor(
    private readonly onOfferFailed: (subscriber: Subscriber, error: unknown) => void = () => undefined,
    private readonly thread = 0,
    private readonly publishHandBack: (message: BusMessage) => void = () => undefined,
    private readonly onSharedDropped: (message: BusMessage) => void = () => undefined,
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
    if (message.regroup) return this.routeRegroup(message, message.regroup);
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
      if (member.thread === this.thread) this.toMember(message, { group, filter, position, hops: 0 }, member);
    });
  }

  /** A handed-back message goes to the member of its group whose turn it is, on every thread alike. */
  private routeRegroup(message: BusMessage, regroup: Regroup): void {
    const member = this.shared.chooseIn(regroup.group, regroup.filter);
    if (member) this.toMember(message, regroup, member);
    else if (regroup.from === this.thread) this.onSharedDropped(message); // the group is gone: counted once
  }

  /** Offers to `member` if it is on this thread (or, if it just left, to another member here); hands back if none is. */
  private toMember(message: BusMessage, regroup: HandBack, member: Member): void {
    if (member.thread !== this.thread) return;
    const members = this.localShared.get(groupKey(regroup.group, regroup.filter));
    // The chosen member may have just left (its leave is still on the bus): another member here takes it.
    const subscription = members?.get(member.id) ?? members?.values().next().value;
    if (subscription) this.offer(subscription.subscriber, message, regroup.position, [subscription]);
    else this.handBack(message, regroup);
  }

  /**
   * A group's QoS 1/2 message that its member did not take goes back on the bus, for another member
   * of the group [MQTT-4.8.2]: the member left before its leave was routed, or its session ended
   * with the message unacknowledged. Its leave is on the bus before it, so every thread chooses
   * among the members that remain. QoS 0 is dropped, as is a message handed back too often.
   * `regroup.hops`: how often it was handed back before.
   */
  handBack(message: BusMessage, regroup: HandBack): void {
    if (message.qos === 0 || regroup.hops >= MAX_REGROUP_HOPS) return this.onSharedDropped(message);
    const { group, filter, position, hops } = regroup;
    this.publishHandBack({ ...message, regroup: { group, filter, position, hops: hops + 1, from: this.thread } });
  }

  control(notice: Control): void {
    if (notice.kind !== 'takeover') return;
    const set = this.connected.get(notice.clientId);
    if (!set) return;
    for (const subscriber of [...set]) if (subscriber.connectionId !== notice.connectionId) subscriber.evict(notice.cleanStart);
  }
}
