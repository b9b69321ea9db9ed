// Which rule forwards a message, and as what (pure). Loop prevention: a message that came in
// through a bridge carries that bridge's origin as its client id and is never sent back out through
// it; on the remote, MQTT 5 No Local keeps the bridge's own messages from coming back in.
import type { BusMessage, QoS } from '../messages.js';
import { topicMatches } from '../topics/match.js';
import type { InboundRule, OutboundRule } from './spec.js';
import { applyTemplate } from './template.js';

const ORIGIN_PREFIX = '$bridge/';

/** The client id of messages a bridge publishes locally (its origin marker). */
export function bridgeOrigin(bridgeName: string): string {
  return ORIGIN_PREFIX + bridgeName;
}

/** Whether a message came in through some bridge. */
export function fromABridge(clientId: string): boolean {
  return clientId.startsWith(ORIGIN_PREFIX);
}

export interface RemotePublish {
  topic: string;
  qos: QoS;
  retain: boolean;
}

/** The first outbound rule that matches, as a publish to the remote; null when none does (or it came from this bridge). */
export function outboundFor(rules: readonly OutboundRule[], message: Pick<BusMessage, 'topic' | 'retain' | 'clientId'>, bridgeName: string): RemotePublish | null {
  if (message.clientId === bridgeOrigin(bridgeName)) return null;
  for (const rule of rules) {
    if (!topicMatches(rule.filter, message.topic)) continue;
    return { topic: applyTemplate({ template: rule.remoteTopic, stripPrefix: rule.stripPrefix }, message.topic), qos: rule.qos, retain: rule.retain === 'as-published' ? message.retain : rule.retain };
  }
  return null;
}

/** The local topic of a message received on `remoteTopic`, by the first inbound rule that matches. */
export function inboundFor(rules: readonly InboundRule[], remoteTopic: string): { topic: string; qos: QoS } | null {
  for (const rule of rules) {
    if (!topicMatches(rule.filter, remoteTopic)) continue;
    return { topic: applyTemplate({ template: rule.localTopic, stripPrefix: rule.stripPrefix }, remoteTopic), qos: rule.qos };
  }
  return null;
}

/**
 * Messages the bridge must still forward are those matched by a rule at QoS 1/2 locally (the
 * message log keeps only those): QoS 0 messages are forwarded live only, best effort.
 */
export function isDurable(message: Pick<BusMessage, 'qos'>): boolean {
  return message.qos > 0;
}
