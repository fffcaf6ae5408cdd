/**
 * The time stamped on records sent without a timestamp of their own.
 *
 * `Date.now()` costs ~45 ns in V8 (a call into the runtime, then gettimeofday), a tenth of
 * what the whole send path of a small record costs; a producer fed a thousand records in a
 * loop would read the same millisecond a thousand times. So within one synchronous stretch
 * of the caller's code (until the next microtask runs) the time read is used for up to
 * READS_SHARED records, then read again. A record's timestamp is then never older than
 * the time that stretch took to send the records before it, since the last read: a few
 * microseconds for a loop that only sends, and the first record of each stretch reads the
 * clock itself. A caller that does heavy synchronous work between sends, without yielding,
 * sees timestamps up to READS_SHARED - 1 of those pieces of work early. A test clock is
 * read for every record.
 */
import { systemClock, type Clock } from './clock.js';

/** Records that share one read of the clock, at most. */
export const READS_SHARED = 8;

/** A function giving the timestamp for the next record. */
export function recordTime(clock: Clock): () => number {
  if (clock !== systemClock) return () => clock.now();
  let time = 0;
  let left = 0;
  let expiry = false;
  const expire = (): void => {
    left = 0;
    expiry = false;
  };
  return () => {
    if (left > 0) {
      left--;
      return time;
    }
    time = Date.now();
    left = READS_SHARED - 1;
    if (!expiry) {
      expiry = true;
      queueMicrotask(expire);
    }
    return time;
  };
}
