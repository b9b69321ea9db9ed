// Topic access rules, as Mosquitto's acl_file users write them: `allow|deny read|write|readwrite
// <pattern>`, with %u (user name) and %c (client id) substituted per connection. Pure logic.
import { topicMatches } from '../topics/match.js';
import { topicFilterProblem } from '../topics/validate.js';

export type Effect = 'allow' | 'deny';
export type Direction = 'read' | 'write';

export interface AccessRule {
  effect: Effect;
  read: boolean;
  write: boolean;
  /** A topic filter, possibly with %u and %c. */
  pattern: string;
}

export class AccessRuleError extends Error {}

const RULE = /^\s*(allow|deny)\s+(read|write|readwrite)\s+(\S+)\s*$/;

/** `deny read test/nosubscribe` -> a rule; a clear error naming what is wrong otherwise. */
export function parseAccessRule(text: unknown, where: string): AccessRule {
  const match = typeof text === 'string' ? RULE.exec(text) : null;
  if (!match) throw new AccessRuleError(`${where}: an access rule is "allow|deny read|write|readwrite <topic filter>", got ${JSON.stringify(text)}`);
  const [, effect, access, pattern] = match;
  const problem = topicFilterProblem(pattern!.replace(/%[uc]/g, 'x'));
  if (problem) throw new AccessRuleError(`${where}: ${problem} in ${JSON.stringify(pattern)}`);
  return { effect: effect as Effect, read: access !== 'write', write: access !== 'read', pattern: pattern! };
}

/** The rule's filter for one connection; null when it names a user or client id the connection lacks. */
export function substitute(pattern: string, username: string | undefined, clientId: string): string | null {
  if (pattern.includes('%u') && !username) return null;
  // An id holding a wildcard or a slash must not widen the pattern: such connections get no match.
  if (/[+#/]/.test(username ?? '') && pattern.includes('%u')) return null;
  if (/[+#/]/.test(clientId) && pattern.includes('%c')) return null;
  return pattern.replace(/%u/g, username ?? '').replace(/%c/g, clientId);
}

/** Whether every topic `filter` can match is also matched by `pattern`. */
export function filterWithin(filter: string, pattern: string): boolean {
  if (filter.startsWith('$') && (pattern[0] === '+' || pattern[0] === '#')) return false; // [MQTT-4.7.2-1]
  const f = filter.split('/');
  const p = pattern.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true; // also covers the parent level
    if (i >= f.length || f[i] === '#') return false;
    if (p[i] !== '+' && p[i] !== f[i]) return false; // a `+` in the filter fits only a `+`
  }
  return f.length === p.length;
}

/** The rules of one connection, substituted once. */
export class ConnectionRules {
  private readonly rules: Array<{ effect: Effect; read: boolean; write: boolean; filter: string }>;

  constructor(rules: readonly AccessRule[], username: string | undefined, clientId: string) {
    this.rules = rules.flatMap((rule) => {
      const filter = substitute(rule.pattern, username, clientId);
      return filter === null ? [] : [{ effect: rule.effect, read: rule.read, write: rule.write, filter }];
    });
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Deny rules come first: a topic any of them matches is refused, whoever asks. */
  deniesTopic(topic: string, direction: Direction): boolean {
    return this.rules.some((r) => r.effect === 'deny' && r[direction] && topicMatches(r.filter, topic));
  }

  allowsTopic(topic: string, direction: Direction): boolean {
    return this.rules.some((r) => r.effect === 'allow' && r[direction] && topicMatches(r.filter, topic));
  }

  /** A subscription wholly inside a deny rule is refused; one that overlaps is filtered per message. */
  deniesFilter(filter: string): boolean {
    return this.rules.some((r) => r.effect === 'deny' && r.read && filterWithin(filter, r.filter));
  }

  allowsFilter(filter: string): boolean {
    return this.rules.some((r) => r.effect === 'allow' && r.read && filterWithin(filter, r.filter));
  }
}
