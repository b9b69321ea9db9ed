// Which HarperDB resources belong to this component, so that topics under any other MQTT-exported
// resource (an app's own `@export` tables, say) keep HarperDB's native behaviour.
const own = new WeakSet<object>();

export function claim(resource: object): void {
  own.add(resource);
}

export function isOwn(resource: object): boolean {
  return own.has(resource);
}
