// Writes to one record, one after the other. Separate HarperDB transactions on the same key do not
// necessarily commit in the order they were started; a later write must not be overtaken by an
// earlier one (a delete landing after the save that followed it).
export class InOrderPerKey {
  private readonly last = new Map<string, Promise<unknown>>();

  /** Runs `write` once the previous write of `key` has settled; reads can wait with `settled`. */
  run<T>(key: string, write: () => Promise<T>): Promise<T> {
    const previous = this.last.get(key);
    const done = previous ? previous.then(write, write) : write();
    this.last.set(key, done);
    void done
      .finally(() => {
        if (this.last.get(key) === done) this.last.delete(key);
      })
      .catch(() => undefined);
    return done;
  }

  /** Whether a write of `key` started here has not settled yet. */
  busy(key: string): boolean {
    return this.last.has(key);
  }

  /** Resolves once the writes of `key` started so far have settled. */
  settled(key: string): Promise<void> {
    return (this.last.get(key) ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
  }
}
