/**
 * The memory budget at its edge: who gets the memory a released batch gives back, and
 * what the pool tells the rest of the producer (exhausted, half free).
 */
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/producer/buffer-pool.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const KiB = 1024;
/** A 64 KiB budget whose pooled sizes are a 16 KiB batch and the 64 KiB one it grows into. */
const pool = (): BufferPool => new BufferPool(64 * KiB, [16 * KiB, 64 * KiB], new FakeClock());

describe('BufferPool', () => {
  it('a waiter that can use a bigger buffer gets the one just released, not a fresh one', async () => {
    const p = pool();
    const big = p.tryAllocate(64 * KiB)!;
    const waiting = p.allocate(16 * KiB, 1000, undefined, 64 * KiB);
    expect(p.exhausted).toBe(true);
    const misses = p.misses;
    p.release(big);
    const got = await waiting;
    expect(got, 'the released buffer itself').toBe(big);
    expect(p.misses - misses, 'buffers allocated afresh').toBe(0);
    expect(p.used, 'the budget it holds: its whole length').toBe(64 * KiB);
    expect(p.exhausted).toBe(false);
    p.release(got);
    expect(p.used).toBe(0);
  });

  it('a waiter for its own size only: the bigger free buffer is given up for a fresh one, the budget kept', async () => {
    const p = pool();
    const big = p.tryAllocate(64 * KiB)!;
    const waiting = p.allocate(16 * KiB, 1000);
    p.release(big);
    const got = await waiting;
    expect(got.length).toBe(16 * KiB);
    expect(p.used).toBe(16 * KiB);
    // The 64 KiB buffer was dropped: a later 64 KiB allocation no longer fits beside it.
    expect(p.tryAllocate(64 * KiB)).toBeUndefined();
  });

  it('resize: a buffer served too big is traded at once for a smaller one, ahead of the waiters in line', async () => {
    const p = pool();
    const big = p.tryAllocate(64 * KiB)!;
    const first = p.allocate(16 * KiB, 1000, undefined, 64 * KiB);
    const second = p.allocate(16 * KiB, 1000);
    p.release(big);
    const served = await first;
    expect(served).toBe(big);
    // The first cannot use 64 KiB after all: it gets 16 KiB now, and the second is served from the rest.
    const small = p.resize(served, 16 * KiB);
    expect(small.length).toBe(16 * KiB);
    expect((await second).length).toBe(16 * KiB);
    expect(p.used).toBe(32 * KiB);
  });

  it('whenHalfFree: called once at most half the budget is held and nothing waits', async () => {
    const p = pool();
    const held = [0, 1, 2, 3].map(() => p.tryAllocate(16 * KiB)!);
    const calls: number[] = [];
    p.whenHalfFree(() => calls.push(p.used));
    const waiting = p.allocate(16 * KiB, 1000);
    p.release(held[0]!);
    await waiting;
    expect(calls, 'not while 64 KiB are held').toEqual([]);
    p.release(held[1]!);
    expect(calls).toEqual([]);
    p.release(held[2]!);
    expect(calls, 'at 32 KiB').toEqual([32 * KiB]);
    p.release(held[3]!);
    expect(calls, 'once').toEqual([32 * KiB]);
    const now: number[] = [];
    p.whenHalfFree(() => now.push(p.used));
    expect(now, 'at once when half is free already').toHaveLength(1);
  });

  it('whenHalfFree: every waker called once, the same function once, a stopped one never', async () => {
    const p = pool();
    const held = [0, 1, 2].map(() => p.tryAllocate(16 * KiB)!);
    const calls: string[] = [];
    const a = (): number => calls.push('a');
    p.whenHalfFree(a);
    p.whenHalfFree(a);
    p.whenHalfFree(() => calls.push('b'));
    const stop = p.whenHalfFree(() => calls.push('stopped'));
    stop();
    p.release(held[0]!);
    expect(calls).toEqual(['a', 'b']);
    p.release(held[1]!);
    p.release(held[2]!);
    expect(calls, 'once').toEqual(['a', 'b']);
  });

  it("a wait's errors name the caller's whole maxBlockMs, not the part of it left for this allocation", async () => {
    const clock = new FakeClock();
    const p = new BufferPool(64 * KiB, [16 * KiB, 64 * KiB], clock);
    const held = p.tryAllocate(64 * KiB)!;
    // Nothing left of a 500 ms wait spent in line before it.
    await expect(p.allocate(16 * KiB, 0, undefined, 16 * KiB, 500)).rejects.toThrow(/within 500 ms \(maxBlockMs\)/);
    const late = p.allocate(16 * KiB, 20, undefined, 16 * KiB, 500);
    late.catch(() => undefined);
    await clock.advance(20);
    await expect(late).rejects.toThrow(/within 500 ms \(maxBlockMs\)/);
    // maxBlockMs 0: no wait was allowed at all.
    await expect(p.allocate(16 * KiB, 0)).rejects.toThrow(/memory budget \(bufferMemory\) is full/);
    p.release(held);
  });

  it('onExhausted: once when the first allocation begins to wait, again after the waiters are served', async () => {
    const p = pool();
    let exhausted = 0;
    p.onExhausted = () => exhausted++;
    const held = p.tryAllocate(64 * KiB)!;
    const first = p.allocate(16 * KiB, 1000);
    const second = p.allocate(16 * KiB, 1000);
    expect(exhausted).toBe(1);
    p.release(held);
    const [a, b] = await Promise.all([first, second]);
    expect(p.exhausted).toBe(false);
    const third = p.tryAllocate(16 * KiB)!;
    const fourth = p.tryAllocate(16 * KiB)!;
    const fifth = p.allocate(16 * KiB, 1000);
    expect(exhausted).toBe(2);
    p.release(a);
    for (const buf of [b, third, fourth, await fifth]) p.release(buf);
    expect(p.used).toBe(0);
  });
});
