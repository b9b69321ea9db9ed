// TCP/TLS sockets (from server.socket) and WebSockets (from server.ws) behind one interface: what
// a connection reads and writes, and the outbox's transport.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HarperUser } from '../authorize.js';
import type { Transport } from '../session/outbox.js';

export interface WireSocket extends Transport {
  readonly remoteAddress: string;
  /** The socket HarperDB handed over, for server.mqtt.events listeners. */
  readonly raw: unknown;
  onData(listener: (chunk: Buffer) => void): void;
  onClose(listener: () => void): void;
  /** Ends after what was written has gone (a graceful close). */
  end(): void;
  /** The TLS client certificate's subject CN, when the connection is TLS with a verified client certificate. */
  verifiedCommonName(): string | null;
  /** The HarperDB user of a WebSocket's HTTP upgrade request (Basic auth, a token...), if any. */
  httpUser?(): Promise<HarperUser | undefined>;
}

/** Reading paused while any holder (the session's back-pressure, the CONNECT, a time slice) holds it. */
function readHolds(pause: () => void, resume: () => void): Pick<WireSocket, 'pause' | 'resume'> {
  const holders = new Set<string>();
  return {
    pause: (holder = 'session') => {
      if (holders.size === 0) pause();
      holders.add(holder);
    },
    resume: (holder = 'session') => {
      if (!holders.delete(holder) || holders.size > 0) return;
      resume();
    },
  };
}

/** How long a graceful end may take before the socket is destroyed. */
const END_GRACE_MS = 1000;

export function tcpSocket(socket: Socket | TLSSocket): WireSocket {
  socket.setNoDelay?.(true);
  // Packets written in one event-loop turn (acknowledgements, deliveries) leave in one write.
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return {
    remoteAddress: socket.remoteAddress ?? '',
    raw: socket,
    onData: (listener) => socket.on('data', listener),
    onClose: (listener) => socket.once('close', listener),
    write: (bytes) => {
      if (socket.writableEnded || socket.destroyed) return true; // closing: nothing more goes out
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      return socket.write(bytes);
    },
    onDrain: (callback) => socket.once('drain', callback),
    ...readHolds(
      () => socket.pause(),
      () => socket.resume(),
    ),
    end: () => {
      if (socket.writableEnded || socket.destroyed) return;
      socket.end();
      // Cleared on close, so a closed socket is not kept for the grace period.
      const grace = setTimeout(() => socket.destroy(), END_GRACE_MS).unref();
      socket.once('close', () => clearTimeout(grace));
    },
    close: () => socket.destroy(),
    get closed() {
      return socket.destroyed || socket.writableEnded;
    },
    verifiedCommonName: () => {
      const tls = socket as TLSSocket;
      if (typeof tls.getPeerCertificate !== 'function' || !tls.authorized) return null;
      const cn = tls.getPeerCertificate()?.subject?.CN;
      return typeof cn === 'string' ? cn : null;
    },
  };
}

/** The part of a `ws` WebSocket used here. */
export interface WsLike {
  readyState: number;
  bufferedAmount: number;
  send(data: Buffer, options?: { binary: boolean }): void;
  close(code?: number): void;
  terminate?(): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[]) => void): void;
  on(event: 'close' | 'error', listener: (...args: unknown[]) => void): void;
  once?(event: string, listener: () => void): void;
  _socket?: Socket;
}

const WS_OPEN = 1;
const WS_HIGH_WATER = 1 << 20;
const WS_DRAIN_POLL_MS = 10;

export function webSocket(ws: WsLike, remoteAddress: string, httpUser: () => Promise<HarperUser | undefined>): WireSocket {
  return {
    httpUser,
    remoteAddress,
    raw: ws,
    onData: (listener) =>
      ws.on('message', (data) => {
        if (Buffer.isBuffer(data)) listener(data);
        else if (Array.isArray(data)) listener(Buffer.concat(data));
        else listener(Buffer.from(data));
      }),
    onClose: (listener) => ws.on('close', () => listener()),
    write: (bytes) => {
      ws.send(bytes, { binary: true });
      return ws.bufferedAmount < WS_HIGH_WATER;
    },
    // `ws` has no 'drain' event: poll its buffer.
    onDrain: (callback) => {
      const poll = () => (ws.bufferedAmount < WS_HIGH_WATER || ws.readyState !== WS_OPEN ? callback() : setTimeout(poll, WS_DRAIN_POLL_MS));
      setTimeout(poll, WS_DRAIN_POLL_MS);
    },
    // `ws` reads from the TCP socket beneath it.
    ...readHolds(
      () => ws._socket?.pause(),
      () => ws._socket?.resume(),
    ),
    end: () => ws.close(1000),
    close: () => (ws.terminate ? ws.terminate() : ws.close()),
    get closed() {
      return ws.readyState !== WS_OPEN;
    },
    verifiedCommonName: () => null,
  };
}
