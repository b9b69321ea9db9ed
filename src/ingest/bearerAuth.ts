// Seed 004's device authentication for HTTP: `Authorization: Bearer <password>` with the user name
// in `X-Username` (or `X-Client-ID` when the client id is the user name). HarperDB reads a Bearer
// token as one of its own JWTs, so on this component's device paths the pair is turned into the
// Basic credentials it stands for before HarperDB authenticates the request.
import { server } from 'harperdb';
import { basicFromBearer } from './bearer.js';

interface HttpRequest {
  pathname?: string;
  headers: { get(name: string): string | string[] | undefined; set(name: string, value: string): void };
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export function acceptBearerPasswords(paths: readonly string[]): void {
  const prefixes = paths.map((path) => `/${path}`);
  const http = server.http as unknown as ((listener: (request: HttpRequest, next: (request: HttpRequest) => unknown) => unknown, options: object) => void) | undefined;
  if (typeof http !== 'function') throw new Error('harper-mqtt-bridge: server.http is missing; this HarperDB version is not supported');
  http(
    (request: HttpRequest, next: (request: HttpRequest) => unknown) => {
      const path = request.pathname ?? '';
      if (prefixes.some((prefix) => path === prefix || path.startsWith(prefix + '/') || path.startsWith(prefix + '?'))) {
        const { headers } = request;
        const basic = basicFromBearer(first(headers.get('authorization')), first(headers.get('x-username')) ?? first(headers.get('x-client-id')));
        if (basic) headers.set('authorization', basic);
      }
      return next(request);
    },
    { runFirst: true },
  );
}
