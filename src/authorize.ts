// Who may publish to and read from which topics: access rules and device prefixes first, then
// HarperDB's role permissions (super users, and anonymous clients where HarperDB does not require
// authentication, may do anything; other users need `insert` on a topic table to publish and
// `read` to receive from it).
import { filterWithin, type ConnectionRules, type Direction } from './access/accessRules.js';
import { topicMatches } from './topics/match.js';
import { isSysTopic } from './topics/validate.js';

export type Action = 'read' | 'insert';

interface TablePermission {
  read?: boolean;
  insert?: boolean;
}

export interface HarperUser {
  username?: string;
  role?: {
    permission?: {
      super_user?: boolean;
      [database: string]: unknown;
    };
  };
}

export function isSuperUser(user: HarperUser | undefined | null): boolean {
  return user?.role?.permission?.super_user === true;
}

export function tableAllows(user: HarperUser | undefined | null, database: string, table: string, action: Action): boolean {
  if (!user || isSuperUser(user)) return true;
  const databasePermission = user.role?.permission?.[database] as { tables?: Record<string, TablePermission> } | undefined;
  return databasePermission?.tables?.[table]?.[action] === true;
}

/** What narrows a user's access beyond HarperDB's table permissions. */
export interface AccessLimits {
  /** Access rules of config.yaml, substituted for this connection. */
  rules?: ConnectionRules;
  /** A device credential's topic filters: the device reaches nothing else (besides allow rules). */
  prefixes?: readonly string[] | null;
}

/**
 * One connection's (or request's) access to topics. Deny rules refuse whoever asks; a device
 * reaches its prefixes and allow rules only; other users pass allow rules, then need HarperDB's
 * table permission (`read`, or `insert` to publish). Super users and anonymous clients (where
 * HarperDB does not require authentication) pass everything not denied. Answers from table
 * permissions are cached (roles rarely change while a client is connected).
 */
export class Access {
  /** No check can fail: the common case skips every per-message test. */
  readonly unrestricted: boolean;
  /** Limited to a device credential's prefixes (HarperDB table permissions do not apply). */
  readonly device: boolean;
  private readonly answers = new Map<string, boolean>();
  private readonly rules: ConnectionRules | null;
  private readonly prefixes: readonly string[] | null;
  private readonly superUser: boolean;

  constructor(
    private readonly user: HarperUser | undefined | null,
    private readonly database: string,
    limits: AccessLimits = {},
  ) {
    this.rules = limits.rules && !limits.rules.empty ? limits.rules : null;
    this.prefixes = limits.prefixes ?? null;
    this.device = this.prefixes !== null;
    this.superUser = !user || isSuperUser(user);
    this.unrestricted = this.superUser && !this.rules && !this.prefixes;
  }

  /** May this client publish to `topic`? `table` names the topic's table (asked only if needed). */
  mayWrite(topic: string, table: () => string): boolean {
    return this.unrestricted || this.topicAllowed(topic, 'write', table);
  }

  /** May this client receive (or read over REST) messages of `topic`? */
  mayRead(topic: string, table: () => string): boolean {
    return this.unrestricted || this.topicAllowed(topic, 'read', table);
  }

  /**
   * May this client subscribe to `filter`? A device only inside its prefixes or allow rules; a
   * filter wholly inside a deny rule is refused for everyone. Other filters are accepted and each
   * message is checked with `mayRead` on delivery.
   */
  maySubscribe(filter: string): boolean {
    if (this.unrestricted) return true;
    if (this.rules?.deniesFilter(filter)) return false;
    if (!this.prefixes) return true;
    return this.prefixes.some((prefix) => filterWithin(filter, prefix)) || (this.rules?.allowsFilter(filter) ?? false);
  }

  private topicAllowed(topic: string, direction: Direction, table: () => string): boolean {
    if (this.rules?.deniesTopic(topic, direction)) return false;
    if (direction === 'read' && isSysTopic(topic)) return true; // $SYS is for every client to read
    if (this.prefixes) return this.prefixes.some((prefix) => topicMatches(prefix, topic)) || (this.rules?.allowsTopic(topic, direction) ?? false);
    if (this.superUser || this.rules?.allowsTopic(topic, direction)) return true;
    return this.tableAllows(table(), direction === 'read' ? 'read' : 'insert');
  }

  private tableAllows(table: string, action: Action): boolean {
    const key = action + ':' + table;
    let answer = this.answers.get(key);
    if (answer === undefined) this.answers.set(key, (answer = tableAllows(this.user, this.database, table, action)));
    return answer;
  }
}
