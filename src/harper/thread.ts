// Which worker thread and which HarperDB process this code runs in.
import { threadId, workerData } from 'node:worker_threads';

/** HarperDB numbers its worker threads 0..n-1; a restarted worker keeps its number. */
export const workerIndex: number = (workerData as { workerIndex?: number } | null)?.workerIndex ?? 0;
/** Unique among the threads of this process, and never reused by a restarted worker. */
export const nodeThreadId: number = threadId;
/** Same for every thread of one HarperDB process, different for the next process. */
export const bootId = `${process.pid}-${Math.round(Date.now() / 1000 - process.uptime())}`;
