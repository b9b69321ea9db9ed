// Primary keys of the history table.

/**
 * History ids sort by time, so `sort(-id)` lists newest first (HarperDB 4.7 does not sort a
 * `topic=` query by the Date `timestamp`): fixed-width base-36 milliseconds, thread, sequence.
 */
export function historyId(timestamp: number, thread: number, sequence: number): string {
  return `${timestamp.toString(36).padStart(9, '0')}-${thread.toString(36).padStart(2, '0')}-${(sequence % 36 ** 6).toString(36).padStart(6, '0')}`;
}
