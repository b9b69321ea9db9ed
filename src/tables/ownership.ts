// Which HarperDB resources belong to this component. Topics under any other MQTT-exported
// resource (an app's own `@export` tables, say) keep HarperDB's native MQTT behaviour.
import { server } from 'harperdb';

const own = new WeakSet<object>();

export function claim(resource: object): void {
  own.add(resource);
}

interface ResourceEntry {
  Resource: object;
  path: string;
}

/**
 * True when `path` (a topic, or the literal part of a filter) resolves to an MQTT resource this
 * component does not own. The root fallback resource ('') does not count: serving topics that
 * nothing else serves is what this component is for.
 */
export function servedNatively(path: string): boolean {
  if (path === '') return false;
  const entry = server.resources.getMatch(path, 'mqtt') as ResourceEntry | undefined;
  return !!entry && entry.path !== '' && !own.has(entry.Resource);
}
