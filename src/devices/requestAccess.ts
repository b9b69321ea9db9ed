// The access of an HTTP request (REST topic paths, ingest, telemetry): the same access rules and
// device prefixes as an MQTT connection of that user. Over HTTP there is no client id, so rules with
// %c do not apply and a client id pin does not refuse.
import { ConnectionRules, type AccessRule } from '../access/accessRules.js';
import { Access, type HarperUser } from '../authorize.js';
import { HttpError } from '../harper/restResource.js';
import { DeviceRefused, type Devices } from './devices.js';

export interface RequestAccessOptions {
  database: string;
  accessRules: readonly AccessRule[];
  devices: Devices | null;
}

export function requestAccess(user: HarperUser | undefined, options: RequestAccessOptions): Access {
  if (!user) throw new HttpError(401, 'authentication required');
  let prefixes: readonly string[] | null = null;
  try {
    prefixes = options.devices?.admit(user, null) ?? null;
  } catch (error) {
    if (error instanceof DeviceRefused) throw new HttpError(401, error.message);
    throw error;
  }
  return new Access(user, options.database, { rules: new ConnectionRules(options.accessRules, user.username, ''), prefixes });
}
