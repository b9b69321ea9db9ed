// Cheap in-memory counters for the hot path. Each worker thread writes only its own slot (no
// locks, no database write per message); the $SYS updater adds the slots of all threads.

export const COUNTER_NAMES = [
  'socketsOpen',
  'socketsTotal',
  'clientsConnected',
  'connectsTotal',
  'packetsReceived',
  'packetsSent',
  'bytesReceived',
  'bytesSent',
  'publishReceived',
  'publishSent',
  'publishDropped',
  'publishBytesReceived',
  'publishBytesSent',
  'subscriptions',
  'storedMessages',
  'storedBytes',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

const INDEX = Object.fromEntries(COUNTER_NAMES.map((name, i) => [name, i])) as Record<CounterName, number>;

export class Counters {
  constructor(private readonly slot: Float64Array = new Float64Array(COUNTER_NAMES.length)) {}

  add(name: CounterName, amount = 1): void {
    this.slot[INDEX[name]]! += amount;
  }

  get(name: CounterName): number {
    return this.slot[INDEX[name]]!;
  }

  /** Gauges describe this thread's live connections; a restarted thread starts them at zero. */
  resetGauges(): void {
    for (const name of ['socketsOpen', 'clientsConnected', 'subscriptions', 'storedMessages', 'storedBytes'] as const) {
      this.slot[INDEX[name]] = 0;
    }
  }
}
