// `$share/{ShareName}/{filter}` [MQTT-4.8.2]: parsing and validation, pure.
import { topicFilterProblem } from '../topics/validate.js';

export interface SharedName {
  group: string;
  filter: string;
}

const PREFIX = '$share/';

export function isSharedFilter(filter: string): boolean {
  return filter.startsWith(PREFIX);
}

/** The group and filter of a shared subscription, or a problem to refuse it with (SUBACK 0x8F). */
export function parseSharedFilter(shared: string): SharedName | { problem: string } {
  const rest = shared.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { problem: 'a shared subscription is $share/{ShareName}/{filter}' };
  const group = rest.slice(0, slash);
  // [MQTT-4.8.2-1] the ShareName is at least one character and has no wildcard
  if (group.includes('+') || group.includes('#')) return { problem: 'the ShareName of a shared subscription cannot hold + or #' };
  const filter = rest.slice(slash + 1);
  const problem = topicFilterProblem(filter);
  if (problem) return { problem };
  return { group, filter };
}
