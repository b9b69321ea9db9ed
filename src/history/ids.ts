// Ids of history messages: they start with the time, so time conditions are key ranges.

/**
 * Message ids sort by time, so `sort(-id)` lists newest first: fixed-width base-36 milliseconds,
 * thread, sequence.
 */
export function historyId(timestamp: number, thread: number, sequence: number): string {
  return `${timePrefix(timestamp)}-${thread.toString(36).padStart(2, '0')}-${(sequence % 36 ** 6).toString(36).padStart(6, '0')}`;
}

function timePrefix(ms: number): string {
  return Math.max(0, ms).toString(36).padStart(9, '0');
}

/** The millisecond an id (or a batch key) starts with; NaN for another string. */
export function idTime(id: string): number {
  return /^[0-9a-z]{9}/.test(id) ? parseInt(id.slice(0, 9), 36) : NaN;
}

/**
 * Below every id of millisecond `ms` and later, above every earlier one (ids of a millisecond
 * start with its prefix and are longer). Lower bound for ">= ms", upper bound for "< ms".
 */
export function idAt(ms: number): string {
  return timePrefix(Math.ceil(ms));
}

/** Epoch ms of a query value (a Date, epoch ms as a number or digits, or a date string); NaN if none. */
export function epochMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
  return NaN;
}
