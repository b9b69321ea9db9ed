// One source's slot in memory shared by every worker thread of the process: who runs it (a lease
// renewed every tick, taken over when its holder stops renewing) and how it is doing (caught up or
// behind, the last error). Pure code over an ArrayBuffer, no HarperDB.

/** A holder that has not renewed for this long is gone (a dead or stuck thread): its lease may be taken. */
export const LEASE_MS = 5_000;
/** A source whose preferred thread has not taken it after this long is taken by any thread. */
export const TAKEOVER_MS = 3_000;

const ERROR_BYTES = 480;
const INTS = 4; // owner, error length, errors counted, abandoned
const FLOATS = 6;
export const SLOT_BYTES = INTS * 4 + FLOATS * 8 + ERROR_BYTES;

const OWNER = 0;
const ERROR_LENGTH = 1;
const ERRORS = 2;
const ABANDONED = 3; // 1: the last holder left with writes perhaps still landing (see abandon)
const RENEWED_AT = 0;
const FREE_SINCE = 1;
const CAUGHT_UP = 2; // 1: the last read found nothing newer than the position
const ERROR_AT = 3;
const LAG_MS = 4; // how far behind its feed the last read found the source

export interface SlotError {
  message: string;
  at: number;
  count: number;
}

export class SourceSlot {
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly text: Uint8Array;

  constructor(buffer: ArrayBuffer) {
    if (buffer.byteLength < SLOT_BYTES) throw new Error(`a source slot needs ${SLOT_BYTES} bytes, got ${buffer.byteLength}`);
    this.ints = new Int32Array(buffer, 0, INTS);
    this.floats = new Float64Array(buffer, INTS * 4, FLOATS);
    this.text = new Uint8Array(buffer, INTS * 4 + FLOATS * 8, ERROR_BYTES);
  }

  get owner(): number {
    return Atomics.load(this.ints, OWNER);
  }

  holds(me: number, now = Date.now()): boolean {
    return this.owner === me && now - this.floats[RENEWED_AT]! <= LEASE_MS;
  }

  /**
   * Takes the lease when it is free or its holder stopped renewing: at once for the preferred
   * thread, after TAKEOVER_MS for the others (so one thread's sources move only when it is gone).
   */
  tryClaim(me: number, preferred: boolean, now = Date.now()): boolean {
    const owner = this.owner;
    if (owner === me) return this.renew(me, now); // still ours (renewed late, or its runner ended)
    const expired = owner === 0 || now - this.floats[RENEWED_AT]! > LEASE_MS;
    if (!expired) return false;
    if (this.floats[FREE_SINCE] === 0) this.floats[FREE_SINCE] = owner === 0 ? now : this.floats[RENEWED_AT]! + LEASE_MS;
    if (!preferred && now - this.floats[FREE_SINCE]! < TAKEOVER_MS) return false;
    if (Atomics.compareExchange(this.ints, OWNER, owner, me) !== owner) return false;
    this.floats[RENEWED_AT] = now;
    this.floats[FREE_SINCE] = 0;
    Atomics.store(this.ints, ABANDONED, 0);
    return true;
  }

  renew(me: number, now = Date.now()): boolean {
    if (this.owner !== me) return false;
    this.floats[RENEWED_AT] = now;
    return true;
  }

  /** Gives the lease up after the holder's writes have all landed (its runner stopped). */
  release(me: number, now = Date.now()): void {
    if (Atomics.compareExchange(this.ints, OWNER, me, 0) === me) this.floats[FREE_SINCE] = now;
  }

  /**
   * Gives the lease up from a thread that is exiting (HarperDB ends a worker with process.exit),
   * perhaps with a commit already handed to the database: the next holder waits for it to land
   * before it reads the position (`mustSettle`), or it would publish those changes again.
   */
  abandon(me: number, now = Date.now()): void {
    Atomics.store(this.ints, ABANDONED, 1);
    this.release(me, now);
  }

  /** Whether a thread that claims this lease now must first let the last holder's writes land: it was abandoned, or its holder went silent. */
  mustSettle(me: number, now = Date.now()): boolean {
    const owner = this.owner;
    if (owner === 0) return Atomics.load(this.ints, ABANDONED) === 1;
    return owner !== me && now - this.floats[RENEWED_AT]! > LEASE_MS;
  }

  /** After each read: whether it found every committed change handled, and how old the oldest change it found was. */
  noteFeed(caughtUp: boolean, lagMs: number): void {
    this.floats[CAUGHT_UP] = caughtUp ? 1 : 0;
    this.floats[LAG_MS] = lagMs;
  }

  get caughtUp(): boolean {
    return this.floats[CAUGHT_UP] === 1;
  }

  get lagMs(): number {
    return this.floats[LAG_MS]!;
  }

  setError(message: string, now = Date.now()): void {
    const bytes = Buffer.from(message).subarray(0, ERROR_BYTES);
    this.text.set(bytes);
    this.ints[ERROR_LENGTH] = bytes.length;
    this.floats[ERROR_AT] = now;
    Atomics.add(this.ints, ERRORS, 1);
  }

  clearError(): void {
    this.ints[ERROR_LENGTH] = 0;
    this.ints[ERRORS] = 0;
  }

  get lastError(): SlotError | null {
    const length = this.ints[ERROR_LENGTH]!;
    if (length === 0) return null;
    return { message: Buffer.from(this.text.subarray(0, length)).toString(), at: this.floats[ERROR_AT]!, count: this.ints[ERRORS]! };
  }
}

/** The worker thread (0..count-1) that should run a source: spreads sources over threads, stable across restarts. */
export function preferredWorker(name: string, workerCount: number): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return (hash >>> 0) % Math.max(1, workerCount);
}
