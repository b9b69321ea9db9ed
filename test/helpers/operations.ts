// HarperDB's operations API of a test instance, as its admin user.
import type { InstanceInfo } from '../../src/cli/instance.js';

export async function operation<T = any>(info: InstanceInfo, body: object): Promise<T> {
  const { ports, adminUser, adminPassword } = info;
  const response = await fetch(`http://127.0.0.1:${ports.operations}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64') },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${JSON.stringify(body).slice(0, 200)}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}
