// A thread's LMDB reads share one read snapshot, which lmdb-js renews lazily: it is taken at the
// first read and kept until a 0 ms timer set then fires (node_modules/lmdb/read.js, renewReadTxn).
// Its own commits reset it at once, another thread's do not. So a read made in the same event-loop
// turn as the news of another thread's commit may not see that commit. Waiting for one timer lets
// the old snapshot go: the next read takes one from now.
export function nextReadSnapshot(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
