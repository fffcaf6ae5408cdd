/**
 * The memory budget for buffered records, with batch buffers pooled and reused.
 *
 * Every batch buffer counts against `budget` from allocation until it is released after
 * the broker answered. Buffers of the standard batch size go back to a free list rather
 * than to the garbage collector, so a steady producer allocates almost nothing. When the
 * budget is spent, allocate() waits in FIFO order (so a big request cannot be starved by
 * small ones) up to its deadline, then fails with BufferFullError; with no wait allowed it
 * fails at once. This is what keeps memory bounded when a broker slows down or stops.
 */
import { AbortedError, BufferFullError } from '../errors.js';
import { objectArray } from './arrays.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { Fifo } from './fifo.js';

interface Waiter {
  size: number;
  /** The biggest buffer it can use instead (see allocate). */
  upTo: number;
  resolve(buf: Buffer): void;
  reject(err: Error): void;
  timer: TimerHandle | undefined;
  /** Timed out, aborted or served: skipped when it reaches the head. */
  gone: boolean;
  cleanup(): void;
}

export class BufferPool {
  readonly budget: number;
  /** Free buffers by size: only the batch sizes the producer asks for (batchSize and the growth sizes). */
  readonly #free = new Map<number, Buffer[]>();
  /** Bytes sitting in the free lists; they count against the budget too. */
  #freeBytes = 0;
  readonly #waiters = new Fifo<Waiter>();
  #waiting = 0;
  /** Bytes handed out and not yet released. */
  #used = 0;
  readonly #clock: Clock;
  /** Called when an allocation begins to wait and none did (see exhausted). */
  onExhausted: (() => void) | undefined;
  /** Each called once, when at most half the budget is held again (see whenHalfFree). */
  readonly #onHalfFree = new Set<() => void>();
  hits = 0;
  misses = 0;
  waits = 0;

  constructor(budget: number, poolableSizes: readonly number[], clock: Clock = systemClock) {
    this.budget = budget;
    this.#clock = clock;
    for (const size of poolableSizes) this.#free.set(size, objectArray<Buffer>());
  }

  /** Bytes allocated to batches now (pooled free buffers are not counted). */
  get used(): number {
    return this.#used;
  }

  /**
   * Whether memory is plentiful: no send waits for it, at most half the budget is held,
   * and at least `reserve` bytes are free. Until it is not, what could be given back only
   * at a cost (a copy) is kept.
   */
  spares(reserve: number): boolean {
    return this.#waiting === 0 && this.#used * 2 <= this.budget && this.budget - this.#used >= reserve;
  }

  /** Whether at most half the budget is held and no allocation waits. */
  get halfFree(): boolean {
    return this.#waiting === 0 && this.#used * 2 <= this.budget;
  }

  /**
   * Calls `wake` once, as soon as halfFree holds (at once if it does now). The same
   * function given twice is called once. Returns what stops the call from coming.
   */
  whenHalfFree(wake: () => void): () => void {
    if (this.halfFree) {
      wake();
      return () => {};
    }
    this.#onHalfFree.add(wake);
    return () => this.#onHalfFree.delete(wake);
  }

  #noRoomWithin(maxBlockMs: number): BufferFullError {
    return new BufferFullError(`no room in the ${this.budget}-byte memory budget (bufferMemory) within ${maxBlockMs} ms (maxBlockMs)`);
  }

  /** Whether an allocation waits for memory: what lingers should go now, to free some (as Java's accumulator does when exhausted). */
  get exhausted(): boolean {
    return this.#waiting > 0;
  }

  /** Whether tryAllocate(size) would succeed now. */
  canAllocate(size: number): boolean {
    return this.#waiting === 0 && this.#used + size <= this.budget;
  }

  /** A buffer at once, or undefined when the budget does not allow it (or others wait first). */
  tryAllocate(size: number): Buffer | undefined {
    if (this.#waiting > 0) return undefined;
    return this.#take(size);
  }

  /**
   * Waits up to `maxWaitMs` for `size` bytes of budget, in FIFO order; 0 means fail at once.
   * A waiter that can use a bigger buffer (up to `upTo` bytes) is handed a free pooled one
   * when none of its own size is free: memory comes back as the buffers batches grew into,
   * and giving one up to allocate a smaller one afresh, then growing that through every
   * size again, made a producer at the memory wall allocate (and collect) far more than
   * its budget. `maxBlockMs` is what the caller's whole wait may last (its errors say that,
   * not the part of it left for this call).
   */
  allocate(size: number, maxWaitMs: number, signal?: AbortSignal, upTo = size, maxBlockMs = maxWaitMs): Promise<Buffer> {
    if (size > this.budget) {
      return Promise.reject(new BufferFullError(`a batch of ${size} bytes can never fit the ${this.budget}-byte memory budget (bufferMemory)`));
    }
    const now = this.tryAllocate(size);
    if (now) return Promise.resolve(now);
    if (maxWaitMs <= 0) return Promise.reject(maxBlockMs > 0 ? this.#noRoomWithin(maxBlockMs) : new BufferFullError(`the ${this.budget}-byte memory budget (bufferMemory) is full`));
    if (signal?.aborted) return Promise.reject(new AbortedError('send aborted while waiting for memory', { cause: signal.reason }));
    this.waits++;
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = (): void => {
        this.#remove(waiter);
        reject(new AbortedError('send aborted while waiting for memory', { cause: signal?.reason }));
      };
      const waiter: Waiter = {
        size,
        upTo,
        resolve,
        reject,
        gone: false,
        timer: this.#clock.setTimeout(() => {
          this.#remove(waiter);
          reject(this.#noRoomWithin(maxBlockMs));
        }, maxWaitMs),
        cleanup: () => {
          this.#clock.clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      if (this.#waiting++ === 0) this.onExhausted?.();
    });
  }

  /**
   * Trades `buf`, held, for a buffer of `size` (smaller): its holder was served already,
   * so no waiter goes first; the rest of its budget then serves them.
   */
  resize(buf: Buffer, size: number): Buffer {
    this.#used -= buf.length;
    this.#keep(buf);
    // Fits: what `buf` held is free now, and `size` is less.
    const out = this.#take(size)!;
    this.#serveWaiters();
    return out;
  }

  /** Gives a buffer's budget back; a standard-size one is kept for reuse. */
  release(buf: Buffer): void {
    this.#used -= buf.length;
    this.#keep(buf);
    this.#serveWaiters();
  }

  /** Keeps a buffer whose budget was just given back in its free list, if it is a pooled size and fits. */
  #keep(buf: Buffer): void {
    const list = this.#free.get(buf.length);
    if (list && this.#used + this.#freeBytes + buf.length <= this.budget) {
      list.push(buf);
      this.#freeBytes += buf.length;
    }
  }

  /**
   * Gives `buf` back and holds `bytes` of the budget instead, for a copy of what `buf`
   * held that lives in memory of its own (no more than `buf`: the budget only shrinks).
   */
  exchange(buf: Buffer, bytes: number): void {
    this.#used += Math.min(bytes, buf.length);
    this.release(buf);
  }

  /** Gives back budget held by exchange(). */
  uncharge(bytes: number): void {
    this.#used -= bytes;
    this.#serveWaiters();
  }

  /** Fails every waiter (the producer is closing). */
  rejectWaiters(err: Error): void {
    for (const w of this.#waiters.drain()) {
      if (w.gone) continue;
      w.gone = true;
      w.cleanup();
      w.reject(err);
    }
    this.#waiting = 0;
  }

  #take(size: number, upTo = size): Buffer | undefined {
    if (this.#used + size > this.budget) return undefined;
    const pooled = this.#free.get(size)?.pop() ?? (upTo > size ? this.#biggerFree(size, upTo) : undefined);
    if (pooled) {
      this.#used += pooled.length;
      this.#freeBytes -= pooled.length;
      this.hits++;
      return pooled;
    }
    this.#used += size;
    this.misses++;
    // Free pooled buffers are budget nobody uses: give them up before allocating afresh.
    for (const list of this.#free.values()) {
      while (list.length > 0 && this.#used + this.#freeBytes > this.budget) this.#freeBytes -= list.pop()!.length;
    }
    // Memory of its own: below 4 KiB allocUnsafe hands out slices of a shared slab, and
    // a pooled slice would keep the whole slab alive for as long as the pool keeps it.
    return Buffer.allocUnsafeSlow(size);
  }

  /**
   * The smallest free pooled buffer of more than `size` and at most `upTo` bytes. The
   * budget has room for it: free buffers are kept only while they fit beside what is used.
   */
  #biggerFree(size: number, upTo: number): Buffer | undefined {
    let best: Buffer[] | undefined;
    let bestSize = Infinity;
    for (const [length, list] of this.#free) {
      if (length > size && length <= upTo && length < bestSize && list.length > 0) {
        best = list;
        bestSize = length;
      }
    }
    return best?.pop();
  }

  #serveWaiters(): void {
    for (let next = this.#waiters.peek(); next; next = this.#waiters.peek()) {
      if (!next.gone) {
        const buf = this.#take(next.size, next.upTo);
        if (!buf) return;
        next.gone = true;
        this.#waiting--;
        next.cleanup();
        next.resolve(buf);
      }
      this.#waiters.shift();
    }
    if (this.#onHalfFree.size > 0 && this.halfFree) {
      const wakes = [...this.#onHalfFree];
      this.#onHalfFree.clear();
      for (const wake of wakes) wake();
    }
  }

  #remove(w: Waiter): void {
    if (w.gone) return;
    w.gone = true;
    this.#waiting--;
    w.cleanup();
    this.#serveWaiters();
  }
}
