/**
 * The interleavings property (test/helpers/interleavings.ts) with a memory budget of a few
 * batches, so that sends wait for memory all the time: waiters served with the buffers
 * finished batches give back, batches sent without lingering while someone waits, ready()
 * resolving once half the budget is free, and bursts of sends past the budget. Every
 * record still ends exactly once; a send that found no memory within maxBlockMs ends
 * unsent; every ready() called resolves by the end of close().
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assertInterleavings, event, PARTITIONS, type Event, type Run } from '../../helpers/interleavings.js';

type MemoryEvent =
  /** Sends `n` records to one partition in one go, not waiting between them. */
  | { kind: 'burst'; to: number; n: number }
  /** Calls ready(); it must have resolved once the run is over. */
  | { kind: 'ready' };

const events: fc.Arbitrary<Event | MemoryEvent> = fc.oneof(
  { weight: 8, arbitrary: event },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('burst' as const), to: fc.nat(PARTITIONS.length - 1), n: fc.integer({ min: 2, max: 30 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'ready' as const }) },
);

let readies: Array<{ done: boolean }> = [];

describe('random interleavings with a memory budget of a few batches', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keep every invariant while sends wait for memory', async () => {
    await assertInterleavings(events, {
      beforeRun: () => (readies = []),
      // 1 KiB: five 200-byte batches, where the base runs' records fill a few dozen.
      options: { bufferMemory: 1024, waitingMemory: 8192 },
      apply: (run: Run, e: MemoryEvent) => {
        if (e.kind === 'ready') {
          const r = { done: false };
          readies.push(r);
          void run.s.producer.ready().then(() => (r.done = true));
          return;
        }
        if (run.close) return;
        const [topic, partition] = PARTITIONS[e.to]!;
        for (let i = 0; i < e.n; i++) {
          const value = `v${run.s.sends.all.length}`.padEnd(40, '.');
          run.sentTo[e.to]!.push(value);
          run.s.sends.produce({ topic, partition, value });
        }
      },
      afterRun: () => expect(readies.filter((r) => !r.done), 'ready() calls never resolved').toEqual([]),
      // No memory within maxBlockMs, or the waiting sends' budget full: ended unsent.
      unsent: /\(bufferMemory\)|\(waitingMemory\)/,
    });
  }, 120_000);
});
