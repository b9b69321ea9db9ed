// Which worker thread runs a bridge: a slot in memory shared by the process's threads holds the
// owner's thread id, taken with compare-and-swap, so two threads never run one bridge. A thread
// whose heartbeat stopped (it died) loses it to the next thread that looks. A new process starts
// with empty slots.
import { sharedBuffer } from '../harper/sharedMemory.js';
import type { HarperTable } from '../harper/tables.js';

export class Lease {
  private readonly slot: Int32Array;

  constructor(
    table: HarperTable<object>,
    name: string,
    private readonly me: number,
    private readonly isLive: (threadId: number) => boolean,
  ) {
    this.slot = new Int32Array(sharedBuffer(table, `harper-mqtt-bridge/bridge-lease/${name}`, 4));
  }

  /** True when this thread holds it now (it had it, or took it from nobody or from a dead thread). */
  acquire(): boolean {
    const owner = Atomics.load(this.slot, 0);
    if (owner === this.me) return true;
    if (owner !== 0 && this.isLive(owner)) return false;
    return Atomics.compareExchange(this.slot, 0, owner, this.me) === owner;
  }

  /**
   * Whether this thread still holds it. A thread whose event loop stood still for longer than a
   * heartbeat counts as dead and loses its bridges to another thread: when it runs again, it must
   * stop sending and saving at once.
   */
  held(): boolean {
    return Atomics.load(this.slot, 0) === this.me;
  }

  release(): void {
    Atomics.compareExchange(this.slot, 0, this.me, 0);
  }
}
