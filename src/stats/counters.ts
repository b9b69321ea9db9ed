// Cheap in-memory counters for the hot path: a plain `+=` on this thread's own slot, no locks and
// no database write per message. Once attached to memory shared by all worker threads of the
// process, the $SYS updater adds up every thread's slot. Slots outlive their threads, so totals
// survive a worker restart; a restarted worker claims a slot and starts its gauges at zero.
// Pure code over an ArrayBuffer, no HarperDB.

export const COUNTER_NAMES = [
  'socketsTotal',
  'clientsConnected',
  'clientsMaximum',
  'clientsExpired',
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
  'tablesCreated',
  'tablesRefused',
  'routingLagMs',
  'historyPending',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

/** Describe the live connections of a thread: they end with it. */
const GAUGES: readonly CounterName[] = ['clientsConnected', 'subscriptions', 'storedMessages', 'storedBytes', 'routingLagMs', 'historyPending'];
/** Combined by maximum, not by sum. */
const MAXIMA: readonly CounterName[] = ['clientsMaximum', 'routingLagMs'];

const INDEX = Object.fromEntries(COUNTER_NAMES.map((name, i) => [name, i + 1])) as Record<CounterName, number>;
const HEARTBEAT = 0;
const SLOT_FIELDS = COUNTER_NAMES.length + 1;

export const MAX_SLOTS = 128;
const OWNERS_BYTES = MAX_SLOTS * 4;
export const SHARED_BYTES = OWNERS_BYTES + MAX_SLOTS * SLOT_FIELDS * 8;

/** A thread whose heartbeat is older than this no longer counts for the gauges. */
export const LIVE_MS = 5_000;
/** A slot whose owner has been silent this long may be taken by a new thread. */
export const ABANDONED_MS = 60_000;
export const HEARTBEAT_MS = 1_000;

export class SharedCountersError extends Error {}

export class Counters {
  private slot = new Float64Array(SLOT_FIELDS);
  private slots: Float64Array | null = null;
  private owners: Int32Array | null = null;
  private slotIndex = -1;
  private ownerId = -1;

  /**
   * Moves this thread's counters into `buffer` (SHARED_BYTES long, the same memory on every
   * thread), claiming a free slot, or else one abandoned by a thread that ended.
   */
  attach(buffer: ArrayBuffer, owner: number, now = Date.now()): void {
    if (buffer.byteLength < SHARED_BYTES) throw new SharedCountersError(`shared counters need ${SHARED_BYTES} bytes, got ${buffer.byteLength}`);
    if (owner <= 0) throw new SharedCountersError(`slot owner must be a positive thread id, got ${owner}`);
    const owners = new Int32Array(buffer, 0, MAX_SLOTS);
    const slots = new Float64Array(buffer, OWNERS_BYTES, MAX_SLOTS * SLOT_FIELDS);
    const index = claimSlot(owners, slots, owner, now);
    const local = this.slot;
    const slot = slots.subarray(index * SLOT_FIELDS, (index + 1) * SLOT_FIELDS);
    for (const name of GAUGES) slot[INDEX[name]] = 0;
    for (const name of COUNTER_NAMES) {
      if (MAXIMA.includes(name)) slot[INDEX[name]] = Math.max(slot[INDEX[name]]!, local[INDEX[name]]!);
      else slot[INDEX[name]]! += local[INDEX[name]]!;
    }
    slot[HEARTBEAT] = now;
    this.slot = slot;
    this.slots = slots;
    this.owners = owners;
    this.slotIndex = index;
    this.ownerId = owner;
  }

  /** Gives the slot back (thread exit); its totals stay in the sums. */
  detach(): void {
    if (!this.owners) return;
    for (const name of GAUGES) this.slot[INDEX[name]] = 0;
    Atomics.store(this.owners, this.slotIndex, 0);
    this.slot = new Float64Array(SLOT_FIELDS);
    this.owners = null;
    this.slots = null;
  }

  add(name: CounterName, amount = 1): void {
    this.slot[INDEX[name]]! += amount;
  }

  /** Sets a gauge of this thread. */
  set(name: CounterName, value: number): void {
    this.slot[INDEX[name]] = value;
  }

  /** This thread's own value. */
  get(name: CounterName): number {
    return this.slot[INDEX[name]]!;
  }

  heartbeat(now = Date.now()): void {
    this.slot[HEARTBEAT] = now;
  }

  /** Records a new connected-clients peak, if the whole process has one now. */
  notePeak(now = Date.now()): void {
    const connected = this.total('clientsConnected', now);
    if (connected > this.slot[INDEX.clientsMaximum]!) this.slot[INDEX.clientsMaximum] = connected;
  }

  /** Whether the thread with this id (node's threadId) holds a slot and beat its heart lately. */
  isLive(threadId: number, now = Date.now()): boolean {
    const { owners, slots } = this;
    if (!owners || !slots) return threadId === this.ownerId;
    for (let i = 0; i < MAX_SLOTS; i++) {
      if (Atomics.load(owners, i) === threadId) return now - slots[i * SLOT_FIELDS + HEARTBEAT]! <= LIVE_MS;
    }
    return false;
  }

  /** The process-wide value: sum of totals, sum of live gauges, maximum of maxima. */
  total(name: CounterName, now = Date.now()): number {
    const slots = this.slots;
    if (!slots) return this.get(name);
    const field = INDEX[name];
    const gauge = GAUGES.includes(name);
    const maximum = MAXIMA.includes(name);
    let result = 0;
    for (let base = 0; base < slots.length; base += SLOT_FIELDS) {
      const heartbeat = slots[base + HEARTBEAT]!;
      if (heartbeat === 0) continue; // never used
      if (gauge && now - heartbeat > LIVE_MS) continue;
      const value = slots[base + field]!;
      result = maximum ? Math.max(result, value) : result + value;
    }
    return result;
  }
}

function claimSlot(owners: Int32Array, slots: Float64Array, owner: number, now: number): number {
  for (let i = 0; i < MAX_SLOTS; i++) {
    if (Atomics.load(owners, i) === 0 && Atomics.compareExchange(owners, i, 0, owner) === 0) return i;
  }
  for (let i = 0; i < MAX_SLOTS; i++) {
    const current = Atomics.load(owners, i);
    const abandoned = now - slots[i * SLOT_FIELDS + HEARTBEAT]! > ABANDONED_MS;
    if (abandoned && Atomics.compareExchange(owners, i, current, owner) === current) return i;
  }
  throw new SharedCountersError(`all ${MAX_SLOTS} shared counter slots are in use by live threads`);
}
