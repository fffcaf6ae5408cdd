/**
 * Random interleavings of what a producer's user and its brokers do, on a fake clock:
 * sends (some with an AbortSignal), aborts, flushes, a close with a timeout, a broker
 * error, a lost answer or a dropped connection on the next Produce, a broker freezing
 * and thawing, and time passing. The invariants are listed in test/helpers/interleavings.ts.
 *
 * The seed is fixed, and Math.random (the backoff's jitter) comes from the run's input,
 * so a failure replays exactly: fast-check prints the seed, the path and the event list.
 */
import { afterEach, describe, it, vi } from 'vitest';
import { assertInterleavings, event } from '../../helpers/interleavings.js';

describe('random interleavings of sends, aborts, flush, close and broker faults', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keep every invariant', async () => {
    await assertInterleavings(event);
  }, 60_000);
});
