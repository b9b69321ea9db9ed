// MQTT topic name and topic filter rules (MQTT 3.1.1 section 4.7, MQTT 5 section 4.7).
// Pure functions: they return a reason string when the input is refused, null when it is valid.

export const MAX_TOPIC_BYTES = 65535; // [MQTT-4.7.3-3]

function commonProblem(value: string, kind: string): string | null {
  if (value.length === 0) return `${kind} must not be empty`; // [MQTT-4.7.3-1]
  if (value.includes('\u0000')) return `${kind} must not contain U+0000`; // [MQTT-4.7.3-2]
  // Fast path: a JS string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (value.length * 3 > MAX_TOPIC_BYTES && Buffer.byteLength(value, 'utf8') > MAX_TOPIC_BYTES) {
    return `${kind} is longer than ${MAX_TOPIC_BYTES} bytes`;
  }
  return null;
}

/** Reason a PUBLISH topic name is invalid, or null. */
export function topicNameProblem(topic: string): string | null {
  const common = commonProblem(topic, 'topic name');
  if (common) return common;
  if (topic.includes('+') || topic.includes('#')) return 'topic name must not contain wildcards'; // [MQTT-3.3.2-2]
  return null;
}

/** Reason a SUBSCRIBE topic filter is invalid, or null. */
export function topicFilterProblem(filter: string): string | null {
  const common = commonProblem(filter, 'topic filter');
  if (common) return common;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "'#' must be a whole level and the last one"; // [MQTT-4.7.1-2]
    }
    if (level.includes('+') && level !== '+') return "'+' must be a whole level"; // [MQTT-4.7.1-3]
  }
  return null;
}

export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** `$SYS` and everything under it belongs to the broker. */
export function isSysTopic(topic: string): boolean {
  return topic === '$SYS' || topic.startsWith('$SYS/');
}
