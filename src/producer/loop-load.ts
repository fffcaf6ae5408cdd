/**
 * Whether the event loop the producer runs on has been busy lately: the signal that
 * decides whether a busy partition's batches may grow past batchSize (appender.ts).
 *
 * Growing them is what keeps a producer fed faster than it can encode and send cheap per
 * record: a request carries up to maxBatchSize per partition for the same per-request
 * cost. But a batch grown past batchSize is not full at batchSize, so it waits for
 * lingerMs (or a request going anyway), and at a moderate rate that is latency for
 * nothing: the thread had time to spare for one request per batchSize, as Java's
 * producer sends them. The thread's own load tells the two apart where the memory held
 * does not: against a broker that answers fast, a producer at full speed holds little.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Clock } from './clock.js';

/** Busy: more than this share of the last window spent running, not waiting for I/O. */
const BUSY_ABOVE = 0.5;

/**
 * How often the share is read again: a call into libuv's metrics, cheap but not for every
 * batch. Short, so a loop turning busy (a burst, a producer started at full speed after
 * waiting for its connection) grows its batches within a few milliseconds.
 */
const WINDOW_MS = 10;

export type LoopLoad = () => boolean;

/**
 * A LoopLoad reading `performance.eventLoopUtilization()` at most every WINDOW_MS of
 * `clock`. Busy until the first window is over: a producer started at full speed grows
 * its batches from its first records.
 */
export function eventLoopLoad(clock: Clock): LoopLoad {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let readAt = clock.now();
  let busy = true;
  return () => {
    const now = clock.now();
    if (now - readAt >= WINDOW_MS) {
      const current = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(current, last).utilization > BUSY_ABOVE;
      last = current;
      readAt = now;
    }
    return busy;
  };
}
