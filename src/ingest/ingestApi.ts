// POST /mqtt-ingest (docs/http-ingest.md): messages over HTTP for devices that cannot hold an MQTT
// connection, with the same credential, prefixes and access rules as MQTT. 202 once every message
// is committed and on its way to subscribers, topic tables and history, like an MQTT publish.
import { server } from 'harperdb';
import type { BridgeConfig } from '../config.js';
import { requestAccess, type RequestAccessOptions } from '../devices/requestAccess.js';
import { HttpError, reply, restResource } from '../harper/restResource.js';
import { PublishRefused, publishProblem, type Publisher } from '../publish.js';
import type { RetainedStore } from '../retained.js';
import type { Counters } from '../stats/counters.js';
import { claim } from '../tables/ownership.js';
import { IngestError, readIngestBody } from './ingestBody.js';
import { RateLimits } from './rateLimit.js';

export const INGEST_PATH = 'mqtt-ingest';
const SWEEP_MS = 60_000;

const REFUSAL_STATUS: Record<PublishRefused['reason'], number> = { 'invalid-topic': 400, 'sys-topic': 403, 'not-authorized': 403, 'quota-exceeded': 429 };

export interface IngestServices {
  config: BridgeConfig;
  publisher: Publisher;
  retained: RetainedStore;
  counters: Counters;
  access: RequestAccessOptions;
}

export function registerIngestApi({ config, publisher, retained, counters, access: accessOptions }: IngestServices): void {
  const limits = new RateLimits(config.ingestRateLimit);
  setInterval(() => limits.sweep(), SWEEP_MS).unref();

  const resource = restResource(INGEST_PATH, {
    post: async (request, body) => {
      const length = Number(request.header('content-length') ?? NaN);
      if (length > config.ingestMaxBytes || (!Number.isFinite(length) && JSON.stringify(body ?? null).length > config.ingestMaxBytes)) {
        throw new HttpError(413, `the request body is over ${config.ingestMaxBytes} bytes (ingestMaxBytes)`);
      }
      const access = requestAccess(request.user, accessOptions);
      let messages;
      try {
        messages = readIngestBody(body, config.ingestMaxBatch);
      } catch (error) {
        if (error instanceof IngestError) throw new HttpError(error.statusCode, error.message);
        throw error;
      }
      const username = request.user?.username ?? '';
      const wait = limits.take(username, messages.length);
      if (wait > 0) {
        const retryAfter = Number.isFinite(wait) ? wait : 1;
        return reply(429, { error: `over ${config.ingestRateLimit} messages per second for ${username} (ingestRateLimit)`, retryAfter }, { 'Retry-After': String(retryAfter) });
      }
      // Every message is checked before any is published: a request is refused whole.
      messages.forEach((message, i) => {
        const problem = publishProblem(message.topic);
        if (problem) throw new HttpError(REFUSAL_STATUS[problem.reason], `message ${i}: ${problem.message}`);
        if (!access.mayWrite(message.topic, () => retained.tableName(message.topic))) {
          throw new HttpError(403, `message ${i}: not allowed to publish to ${message.topic}`);
        }
      });
      const clientId = request.header('x-client-id') ?? `http:${username}`;
      const committed: Promise<void>[] = [];
      for (const message of messages) {
        const inbound = { ...message, clientId };
        counters.add('publishReceived');
        counters.add('publishBytesReceived', message.payload.length);
        // A message that creates its table first is awaited, so none behind it overtakes it.
        if (publisher.mustWait(inbound)) await Promise.all(committed.splice(0));
        committed.push(publisher.publish(inbound, access));
      }
      try {
        await Promise.all(committed);
      } catch (error) {
        if (error instanceof PublishRefused) throw new HttpError(REFUSAL_STATUS[error.reason], error.message);
        throw error;
      }
      return reply(202, { accepted: messages.length });
    },
  });
  claim(resource);
  server.resources.set(INGEST_PATH, resource, { rest: true, mqtt: false });
}
