// `$SYS/broker/bridges/<name>/...`: each bridge's status (GET /mqtt_bridges/<name>) as $SYS values,
// so MQTT monitoring tools see the bridges like the rest of the broker. Pure code.
import type { BridgeStatus } from '../bridges/status.js';

export interface NamedBridgeStatus {
  name: string;
  status: BridgeStatus;
}

const whole = (value: number) => String(Math.max(0, Math.round(value)));
const flag = (value: boolean) => (value ? '1' : '0');

export function bridgeSysValues(bridges: readonly NamedBridgeStatus[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const { name, status } of bridges) {
    const at = `broker/bridges/${name}/`;
    values.set(at + 'connected', flag(status.connected));
    values.set(at + 'state', status.state);
    values.set(at + 'messages/sent', whole(status.sent));
    values.set(at + 'messages/acknowledged', whole(status.acknowledged));
    values.set(at + 'messages/received', whole(status.received));
    values.set(at + 'pending/messages', whole(status.pending.messages));
    values.set(at + 'pending/bytes', whole(status.pending.bytes));
    values.set(at + 'backlog/full', flag(status.backlog.full));
    values.set(at + 'dead letters/count', whole(status.deadLetters.count));
    values.set(at + 'reconnects', whole(status.reconnects));
    values.set(at + 'last error/time', status.lastErrorAt ?? 'never');
  }
  return values;
}
