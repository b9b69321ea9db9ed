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
