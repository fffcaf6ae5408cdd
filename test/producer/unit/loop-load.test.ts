/**
 * The event loop's load as the producer reads it (loop-load.ts): busy until it has been
 * measured, then what the last window held, read again at most every few milliseconds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/producer/clock.js';
import { eventLoopLoad } from '../../../src/producer/loop-load.js';

function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // The loop is running, not waiting.
  }
}

describe('eventLoopLoad', () => {
  it('is busy before a window has gone by, idle after a window spent waiting, busy after one spent running', async () => {
    const busy = eventLoopLoad(systemClock);
    expect(busy()).toBe(true);
    await sleep(40);
    expect(busy()).toBe(false);
    spin(40);
    expect(busy()).toBe(true);
  });

  it('reads the load again only once a window has gone by on its clock', async () => {
    let now = 0;
    const busy = eventLoopLoad({ ...systemClock, now: () => now });
    await sleep(40);
    expect(busy()).toBe(true);
    now += 10;
    expect(busy()).toBe(false);
    spin(40);
    expect(busy()).toBe(false);
  });
});
