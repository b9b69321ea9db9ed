// A REST resource from plain handlers. HarperDB's REST layer calls static methods of the
// registered class: get(target, request), put/post/patch(target, data, request),
// delete(target, request). `target` is the rest of the URL below the registered path.
import { Resource } from 'harperdb';
import type { HarperUser } from '../authorize.js';

/** An error HarperDB's REST layer answers with its status code and, as its body, `"HttpError: <message>"`. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RestRequest {
  /** Below the registered path, still URL-encoded: '' for the path itself, '/x/y' below it. */
  path: string;
  /** The query string without '?', '' when none. */
  search: string;
  user: HarperUser | undefined;
  /** HarperDB's own request object, to hand on when delegating to a table. */
  raw: unknown;
  /** The query string parsed by HarperDB's REST query parser (conditions, sort, limit, select). */
  query(): unknown;
  /** A request header, lower-case name. */
  header(name: string): string | undefined;
  /**
   * A request target for another resource (`/` plus a query, say), of the same class as the one
   * HarperDB built (its RequestTarget is not exported at runtime), with the same permission check.
   */
  target(url: string): unknown;
}

type Handler = (request: RestRequest, data?: unknown) => unknown;
export interface RestHandlers {
  get?: Handler;
  put?: Handler;
  post?: Handler;
  patch?: Handler;
  delete?: Handler;
}

interface Target {
  pathname?: string;
  search?: string;
}

function restRequest(target: Target, request: unknown): RestRequest {
  return {
    path: target?.pathname ?? '',
    search: target?.search ?? '',
    user: (request as { user?: HarperUser } | undefined)?.user,
    raw: request,
    query() {
      // A Resource's get receives the query unparsed. Given a target, the parser fills it and
      // notes a syntax error on it (without one it fails on its own error path).
      if (!target?.search) return {};
      const parsed = new (target.constructor as new () => { parseError?: Error; conditions?: unknown })();
      (Resource as unknown as { parseQuery(search: string, into: object): unknown }).parseQuery(target.search, parsed);
      if (parsed.parseError) throw new HttpError(400, `the query is not valid: ${parsed.parseError.message}`);
      // A plain `a=b&c=d` (nothing the parser has to read) is left to URLSearchParams: equals each.
      if (parsed.conditions === undefined) {
        return { conditions: [...new URLSearchParams(target.search)].map(([attribute, value]) => ({ attribute, comparator: 'equals', value })) };
      }
      return parsed;
    },
    header(name) {
      const value = (request as { headers?: { get?(name: string): unknown } } | undefined)?.headers?.get?.(name);
      return Array.isArray(value) ? String(value[0]) : value === undefined || value === null ? undefined : String(value);
    },
    target(url) {
      const made = new (target.constructor as new (url: string) => Target & { checkPermission?: unknown })(url);
      made.checkPermission = (target as { checkPermission?: unknown }).checkPermission;
      return made;
    },
  };
}

/** The parsed request body; one HarperDB cannot parse is the client's mistake (400), not a 500. */
async function body(data: unknown): Promise<unknown> {
  try {
    return await data;
  } catch (error) {
    if (error instanceof SyntaxError) throw new HttpError(400, `the request body is not valid: ${error.message}`);
    throw error;
  }
}

export function restResource(name: string, handlers: RestHandlers): typeof Resource {
  const refuse = (method: string) => () => {
    throw new HttpError(405, `${method} is not supported on ${name}`);
  };
  const call = (method: keyof RestHandlers) => {
    const handler = handlers[method];
    if (!handler) return refuse(method.toUpperCase());
    return method === 'get' || method === 'delete'
      ? (target: Target, request: unknown) => handler(restRequest(target, request))
      : // HarperDB reads a request body as a stream: `data` is a promise of the parsed body.
        async (target: Target, data: unknown, request: unknown) => handler(restRequest(target, request), await body(data));
  };
  const statics = { get: call('get'), put: call('put'), post: call('post'), patch: call('patch'), delete: call('delete') };
  const View = class extends (Resource as unknown as new () => object) {};
  Object.defineProperty(View, 'name', { value: name });
  for (const [method, fn] of Object.entries(statics)) Object.defineProperty(View, method, { value: fn, writable: true, configurable: true });
  return View as unknown as typeof Resource;
}

/** 401 without a user, 403 for a user who is not a super user. */
export function requireAdmin(user: HarperUser | undefined): void {
  if (!user) throw new HttpError(401, 'authentication required');
  if (user.role?.permission?.super_user !== true) throw new HttpError(403, 'only HarperDB super users may do this');
}

/** A reply with its own status code (and headers), as HarperDB's REST layer takes it from a handler. */
export function reply(status: number, data: unknown, headers: Record<string, string> = {}): { status: number; headers: Record<string, string>; data: unknown } {
  return { status, headers, data };
}

/** The decoded path segments below the registered path: `/a%2Fb/c/` -> ['a/b', 'c']. */
export function pathParts(request: RestRequest): string[] {
  return request.path.replace(/^\/|\/$/g, '').split('/').filter(Boolean).map(decodeURIComponent);
}
