// Memory shared by all worker threads of the HarperDB process. lmdb-js (HarperDB 4.7's storage)
// keeps "user shared buffers" per database environment and key: every thread asking for the same
// key gets the same bytes, until the process ends.
import type { HarperTable } from './tables.js';

export function sharedBuffer(table: HarperTable<object>, key: string, bytes: number): ArrayBuffer {
  const store = table.primaryStore;
  if (typeof store.getUserSharedBuffer !== 'function') {
    throw new Error(
      `harper-mqtt-bridge: table ${table.tableName} has no getUserSharedBuffer (lmdb-js); this HarperDB version is not supported ` +
        '($SYS statistics need memory shared between worker threads).',
    );
  }
  const buffer = store.getUserSharedBuffer(key, new ArrayBuffer(bytes));
  if (buffer.byteLength !== bytes) {
    throw new Error(`harper-mqtt-bridge: shared buffer ${key} has ${buffer.byteLength} bytes, expected ${bytes} (a different version of this component in the same process?)`);
  }
  return buffer;
}
