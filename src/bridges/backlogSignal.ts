// Whether a bridge's backlog is full, for every worker thread: the thread running the bridge sets
// it, the threads accepting publishes read it (refuse mode) and count what they refused. Memory
// shared by the process's threads; a new process starts with it clear (the running thread counts
// the backlog again).
import { sharedBuffer } from '../harper/sharedMemory.js';
import type { HarperTable } from '../harper/tables.js';

const FULL = 0;
const REFUSED = 1;

export class BacklogSignal {
  private readonly slots: Int32Array;

  constructor(table: HarperTable<object>, name: string) {
    this.slots = new Int32Array(sharedBuffer(table, `harper-mqtt-bridge/bridge-backlog/${name}`, 8));
  }

  get full(): boolean {
    return Atomics.load(this.slots, FULL) === 1;
  }

  set full(full: boolean) {
    Atomics.store(this.slots, FULL, full ? 1 : 0);
  }

  /** One local publish refused because of this backlog (since the process started). */
  refused(): void {
    Atomics.add(this.slots, REFUSED, 1);
  }

  get refusedCount(): number {
    return Atomics.load(this.slots, REFUSED);
  }
}

/** The signals of this thread, one per bridge name. */
export class BacklogSignals {
  private readonly byName = new Map<string, BacklogSignal>();

  constructor(private readonly table: HarperTable<object>) {}

  of(name: string): BacklogSignal {
    let signal = this.byName.get(name);
    if (!signal) this.byName.set(name, (signal = new BacklogSignal(this.table, name)));
    return signal;
  }
}
