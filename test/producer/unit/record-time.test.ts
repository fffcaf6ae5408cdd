import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock, type Clock } from '../../../src/producer/clock.js';
import { READS_SHARED, recordTime } from '../../../src/producer/record-time.js';

describe('recordTime', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('shares one read of the system clock among at most READS_SHARED records of one synchronous stretch', () => {
    let reads = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => ++reads);
    const next = recordTime(systemClock);
    const times = Array.from({ length: READS_SHARED * 2 + 3 }, () => next());
    expect(times).toEqual([...Array(READS_SHARED).fill(1), ...Array(READS_SHARED).fill(2), 3, 3, 3]);
  });

  it('reads the clock again for the first record after the stretch ends (a microtask ran)', async () => {
    let reads = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => ++reads);
    const next = recordTime(systemClock);
    expect([next(), next()]).toEqual([1, 1]);
    await Promise.resolve();
    expect([next(), next()]).toEqual([2, 2]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(next()).toBe(3);
  });

  it('reads any other clock (a test clock) for every record', () => {
    let now = 0;
    const clock = { ...systemClock, now: () => ++now } satisfies Clock;
    const next = recordTime(clock);
    expect([next(), next(), next()]).toEqual([1, 2, 3]);
  });
});
