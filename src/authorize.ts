// Who may publish to and read from which topic tables, using HarperDB's role permissions:
// super users (and anonymous clients where HarperDB does not require authentication) may do
// anything; other users need `insert` on a topic table to publish and `read` to receive from it.

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

/** Per-connection cache of permission answers (roles rarely change while a client is connected). */
export class Access {
  /** Super user or anonymous: every check passes. */
  readonly unrestricted: boolean;
  private readonly answers = new Map<string, boolean>();

  constructor(
    private readonly user: HarperUser | undefined | null,
    private readonly database: string,
  ) {
    this.unrestricted = !user || isSuperUser(user);
  }

  allows(table: string, action: Action): boolean {
    if (this.unrestricted) return true;
    const key = action + ':' + table;
    let answer = this.answers.get(key);
    if (answer === undefined) this.answers.set(key, (answer = tableAllows(this.user, this.database, table, action)));
    return answer;
  }
}
