// What the console's reads (/mqtt-console/api/...) answer: the contract between the page and the
// server code (src/console/), which imports these types from here. Types only.

export interface ClientSummary {
  clientId: string;
  /** HarperDB user; null for an anonymous client. */
  username: string | null;
  protocolVersion: number;
  /** Topic filters, as the client subscribed them. */
  subscriptions: string[];
  /** Messages waiting to be sent to the client. */
  queued: number;
  /** QoS 1/2 messages sent and not yet acknowledged. */
  inflight: number;
  /** Epoch ms. */
  connectedAt: number;
}

/** GET api/clients */
export interface ClientList {
  /** Clients connected to all threads. */
  total: number;
  /** Listed clients, each with the thread it is connected to. */
  clients: Array<ClientSummary & { thread: number }>;
}

/** A message of api/retained and api/history. */
export interface MessageView {
  topic: string;
  qos: number;
  clientId: string;
  /** Epoch ms. */
  timestamp: number;
  contentType: string;
  /** The payload, base64. */
  data: string;
}

/** GET api/retained */
export interface RetainedView {
  topic: string;
  row: MessageView | null;
  /** Retained messages one level below. */
  children: MessageView[];
}

/** A source of GET api/sources (docs/sources.md): what it publishes and how it is doing. */
export interface SourceView {
  name: string;
  origin: 'config' | 'runtime';
  /** running, starting, waiting for table, refused. */
  state: string;
  /** `table`, or `database.table` when the source names its database; '' when refused unread. */
  table: string;
  /** event or batch; '' when refused unread. */
  mode: string;
  /** The topic template; '' when refused unread. */
  topic: string;
  /** The worker thread running it. */
  thread: number | null;
  published: number | null;
  skipped: number | null;
  /** How far behind its table's changes it was at its last read; null unless running. */
  lagMs: number | null;
  /** Epoch ms: every change committed up to this time is handled. */
  position: number | null;
  /** Epoch ms: commit time of the last change published. */
  lastChangeAt: number | null;
  /** Why the source is refused. */
  refused: string | null;
  lastError: { message: string; at: number; count: number } | null;
}

/** A bridge of GET api/bridges (docs/bridges.md): where it forwards to and how it is doing. Never a credential. */
export interface BridgeView {
  name: string;
  origin: 'config' | 'runtime';
  /** The remote broker, without any user information. */
  url: string;
  connected: boolean;
  /** live, connecting, stopped, ... */
  state: string;
  sent: number;
  acknowledged: number;
  received: number;
  pending: { messages: number; bytes: number; oldestAgeMs: number | null; complete: boolean };
  /** Refused messages waiting for their next attempt. */
  retrying: number;
  /** Attempts to send a refused message again. */
  retried: number;
  deadLetters: number;
  lastError: { message: string; at: number | null } | null;
}

/** A dead letter of GET api/bridges/dead-letters?bridge=B. */
export interface DeadLetterView {
  id: string;
  topic: string;
  remoteTopic: string;
  reason: string;
  attempts: number;
  bytes: number;
  /** Epoch ms. */
  deadAt: number;
}

/** POST api/bridges/replay */
export interface ReplayAnswer {
  replayed: number;
}
