// REST requests to the test HarperDB's HTTP port (localhost is authorized as admin in dev mode).
import { httpBase } from './mqtt.js';

export async function get(path: string): Promise<{ status: number; contentType: string | null; body: Buffer; json(): any }> {
  const response = await fetch(httpBase() + path);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, contentType: response.headers.get('content-type'), body, json: () => JSON.parse(body.toString()) };
}

export async function request(method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(httpBase() + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}
