// The MQTT listeners, on HarperDB's public server API: TCP and TLS through server.socket (every
// worker thread accepts on the ports, TLS with HarperDB's certificates and optional mTLS), and
// WebSocket with the `mqtt` subprotocol on HarperDB's HTTP port through server.ws. Registered
// while the component loads, before HarperDB starts listening.
import { server } from 'harperdb';
import type { Socket } from 'node:net';
import type { HarperUser } from '../authorize.js';
import type { MtlsSettings } from '../harper/settings.js';
import { tcpSocket, webSocket, type WireSocket, type WsLike } from './socket.js';

export interface ListenerOptions {
  /** 0: no TCP listener. */
  port: number;
  /** 0: no TLS listener. */
  securePort: number;
  webSocket: boolean;
  mtls: MtlsSettings | false;
  /** WebSocket messages larger than this are refused by `ws` itself. */
  maxPacketSize: number;
}

interface HttpRequest {
  headers: { get(name: string): string | undefined | null };
  user?: HarperUser;
  _nodeRequest?: { socket?: { remoteAddress?: string } };
}

type Next = (ws: unknown, request: unknown, chainCompletion: unknown) => unknown;

const MQTT_SUBPROTOCOL = /(^|,)\s*mqtt(v3\.1)?\s*(,|$)/;

export function listen(options: ListenerOptions, accept: (socket: WireSocket) => void): void {
  const { port, securePort } = options;
  if (port || securePort) {
    const socketOptions: Record<string, unknown> = {};
    if (port) socketOptions.port = port;
    if (securePort) {
      socketOptions.securePort = securePort;
      if (options.mtls) socketOptions.mtls = options.mtls;
    }
    server.socket!((socket: Socket) => accept(tcpSocket(socket)), socketOptions as never);
  }
  if (options.webSocket) {
    const listener = (ws: WsLike, request: HttpRequest, chainCompletion: Promise<unknown>, next: Next) => {
      if (!MQTT_SUBPROTOCOL.test(request.headers.get('sec-websocket-protocol') ?? '')) return next(ws, request, chainCompletion);
      const remoteAddress = ws._socket?.remoteAddress ?? request._nodeRequest?.socket?.remoteAddress ?? '';
      accept(webSocket(ws, remoteAddress, () => Promise.resolve(chainCompletion).then(() => request.user, () => undefined)));
    };
    // Ahead of HarperDB's own MQTT-over-WebSocket handler, should that still be on.
    server.ws!(listener as never, { subProtocol: 'mqtt', runFirst: true, maxPayload: options.maxPacketSize } as never);
  }
}
