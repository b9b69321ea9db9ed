// The component's own tables (topic tables, history, sessions, wills, the bus log, $SYS, the
// registries, credentials) change only through the component: a row written from outside would
// reach subscribers as a forged message or corrupt a session. REST writes are refused by the
// read-only views; this guard refuses the operations API (insert, update, upsert, delete, SQL),
// which calls the table class's static write methods with a context that carries the caller's
// HarperDB user. The component never passes a user, so its own writes go through.
//
// This wraps methods of HarperDB's table classes (internals): the methods are checked when a
// table is guarded, and a HarperDB without them stops the component with a clear error.

const WRITES = ['put', 'patch', 'delete', 'create', 'update', 'post', 'publish', 'invalidate'] as const;
const GUARDED = Symbol.for('harper-mqtt-bridge.writeGuard');

export class ReadOnlyTableError extends Error {
  readonly statusCode = 403;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;
type TableClass = Record<string, unknown> & { tableName?: string; databaseName?: string; [GUARDED]?: true };

/** A HarperDB user object, as the operations API puts it in the context it writes with. */
function carriesCaller(argument: unknown): boolean {
  if (!argument || typeof argument !== 'object') return false;
  const user = (argument as { user?: unknown }).user;
  return !!user && typeof user === 'object' && 'role' in user;
}

export function guardWrites<T>(table: T): T {
  const target = table as unknown as TableClass;
  if (target[GUARDED]) return table;
  const name = `${target.databaseName}.${target.tableName}`;
  for (const method of WRITES) {
    if (typeof target[method] !== 'function') {
      throw new Error(`harper-mqtt-bridge: table ${name} has no static ${method}(); this HarperDB version is not supported`);
    }
  }
  for (const method of WRITES) {
    const original = target[method] as Method;
    Object.defineProperty(target, method, {
      configurable: true,
      writable: true,
      value: function guarded(this: unknown, ...args: unknown[]) {
        if (args.some(carriesCaller)) {
          throw new ReadOnlyTableError(`${name} is kept by harper-mqtt-bridge and is read-only (docs/security.md, "Read-only tables")`);
        }
        return original.apply(this, args);
      },
    });
  }
  Object.defineProperty(target, GUARDED, { value: true });
  return table;
}
