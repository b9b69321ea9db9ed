// GET /mqtt-console/api/bridges and api/bridges/dead-letters: the listings of GET /mqtt_bridges/,
// reduced to what the console's Bridges panel shows. Fields are picked one by one, so nothing of a
// spec (username, TLS files) reaches the page. Pure code.
import type { BridgeListing, DeadLetterListing } from '../bridges/api.js';
import type { BridgeView, DeadLetterView } from './web/api.js';

/** The url as shown: a spec refuses credentials in it, but the page must never show one anyway. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '';
  }
}

export function bridgeView(bridge: BridgeListing): BridgeView {
  const { status } = bridge;
  const { messages, bytes, oldestAgeMs, complete } = status.pending;
  return {
    name: bridge.name,
    origin: bridge.source,
    url: shownUrl(bridge.url),
    connected: status.connected,
    state: status.state,
    sent: status.sent,
    acknowledged: status.acknowledged,
    received: status.received,
    pending: { messages, bytes, oldestAgeMs, complete },
    retrying: status.retrying,
    retried: status.retried,
    deadLetters: status.deadLetters.count,
    lastError: status.lastError === null ? null : { message: status.lastError, at: status.lastErrorAt === null ? null : Date.parse(status.lastErrorAt) },
  };
}

export function deadLetterView(letter: DeadLetterListing): DeadLetterView {
  const { id, topic, remoteTopic, reason, attempts, bytes } = letter;
  return { id, topic, remoteTopic, reason, attempts, bytes, deadAt: Date.parse(letter.deadAt) };
}
