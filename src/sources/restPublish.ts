// POST /mqtt_publish/ for scripts: `{ "topic", "payload", "qos"?, "retain"?, "properties"? }`
// (a string payload is sent as its UTF-8 text, with "encoding": "base64" as the bytes it encodes,
// anything else as JSON). Authorized like an MQTT PUBLISH by the caller's HarperDB user, through
// the same request access as every HTTP path: access rules, a device's credential and prefixes,
// then insert permission on the topic's table.
import { server } from 'harperdb';
import { requestAccess, type RequestAccessOptions } from '../devices/requestAccess.js';
import { HttpError, restResource } from '../harper/restResource.js';
import { PublishRefused } from '../publish.js';
import { claim } from '../tables/ownership.js';
import type { PublishApi } from './publishApi.js';
import type { MessageOptions, Payload } from './publishClient.js';

export const PUBLISH_RESOURCE = 'mqtt_publish';

export function registerRestPublish(api: PublishApi, accessOptions: RequestAccessOptions): void {
  const resource = restResource(PUBLISH_RESOURCE, {
    post: async (request, data) => {
      const access = requestAccess(request.user, accessOptions);
      const body = (data ?? {}) as { topic?: unknown; payload?: unknown; encoding?: unknown } & MessageOptions;
      if (typeof body.topic !== 'string') throw new HttpError(400, 'say where: { "topic": "a/b", "payload": ... }');
      if (body.payload === undefined) throw new HttpError(400, 'say what: { "topic": "a/b", "payload": ... } (a string, or any JSON value)');
      if (body.encoding !== undefined && body.encoding !== 'base64') throw new HttpError(400, `encoding must be "base64" when given, got ${JSON.stringify(body.encoding)}`);
      const payload = body.encoding === 'base64' && typeof body.payload === 'string' ? Buffer.from(body.payload, 'base64') : (body.payload as Payload);
      try {
        await api.publish(body.topic, payload, { qos: body.qos, retain: body.retain, properties: body.properties }, access, `rest:${request.user?.username ?? ''}`);
      } catch (error) {
        if (error instanceof PublishRefused) throw new HttpError(error.reason === 'not-authorized' ? 403 : 400, error.message);
        if (error instanceof TypeError) throw new HttpError(400, error.message);
        throw error;
      }
      return { published: body.topic };
    },
  });
  claim(resource);
  server.resources.set(PUBLISH_RESOURCE, resource, { rest: true, mqtt: false });
}
