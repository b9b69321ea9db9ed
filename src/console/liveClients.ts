// The clients connected to this thread, for the console's client list. Sessions live on the thread
// their connection landed on, so each thread describes its own and the board (clientsBoard.ts)
// puts the threads' lists side by side. Pure code, no HarperDB.
import type { ClientList, ClientSummary } from './web/api.js';

export interface Describable {
  describe(): ClientSummary;
}

export interface ThreadClients {
  /** Clients connected to the thread, also those left out of `clients`. */
  total: number;
  clients: ClientSummary[];
}

const byClientId = (a: ClientSummary, b: ClientSummary) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0);

export class LiveClients {
  private readonly all = new Set<Describable>();

  add(client: Describable): void {
    this.all.add(client);
  }

  delete(client: Describable): void {
    this.all.delete(client);
  }

  /** At most `limit` clients, by client id: a broker with 100,000 clients still answers quickly. */
  snapshot(limit: number): ThreadClients {
    const clients: ClientSummary[] = [];
    for (const client of this.all) clients.push(client.describe());
    clients.sort(byClientId);
    return { total: this.all.size, clients: clients.slice(0, limit) };
  }
}

/** The threads' lists as one, by client id, at most `limit` entries. */
export function mergeThreads(threads: ReadonlyArray<ThreadClients & { thread: number }>, limit: number): ClientList {
  const clients = threads.flatMap(({ thread, clients }) => clients.map((client) => ({ ...client, thread })));
  clients.sort(byClientId);
  return { total: threads.reduce((sum, { total }) => sum + total, 0), clients: clients.slice(0, limit) };
}
