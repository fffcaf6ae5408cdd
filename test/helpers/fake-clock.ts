/**
 * A Clock for deterministic tests, as Java's MockTime: time moves only when the test
 * moves it, and every timer and `soon` task runs from advance()/runUntil()/runAll(), one
 * at a time, with the promise jobs it started settled before the next one runs.
 *
 * Order: `soon` tasks first (FIFO), then timers by due time and, at equal times, in the
 * order they were set. Nothing here uses a real timer; the only real asynchrony is the
 * setImmediate that lets promise chains settle between two tasks.
 */
import type { Clock, TimerHandle } from '../../src/producer/clock.js';

/** 2026-01-01T00:00:00Z: a fixed start, so timestamps in logs and records never vary. */
export const FAKE_EPOCH = Date.UTC(2026, 0, 1);

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
  readonly unref: boolean;
  /** Where it was set, when the clock traces timers (to find one left after close). */
  readonly stack: string | undefined;
  cancelled: boolean;
}

export interface FakeClockOptions {
  /** Start time in epoch ms. Default FAKE_EPOCH. */
  start?: number;
  /**
   * setImmediate rounds between two tasks. One drains every promise job already queued
   * (Node empties the microtask queue before the check phase); more also lets code that
   * still uses real setImmediate catch up. Default 2.
   */
  settleRounds?: number;
  /** Keep the stack of each timer's creation for pendingTimerList(). Costs a little per timer. */
  traceTimers?: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  /** A binary min-heap by (due, seq); cancelled timers are removed lazily. */
  readonly #heap: Timer[] = [];
  #live = 0;
  readonly #soon: Array<() => void> = [];
  readonly #settleRounds: number;
  readonly #trace: boolean;
  #driving = false;
  /** Tasks run so far: a cheap progress measure for tests that look for livelock. */
  tasksRun = 0;
  /** Errors thrown by tasks; the producer's own callbacks must never throw, so tests assert this stays empty. */
  readonly taskErrors: unknown[] = [];
  /** More tasks than this without time moving is taken for a busy loop, and fails the run. */
  maxTasksPerInstant = 20_000;

  constructor(options: FakeClockOptions = {}) {
    this.#now = options.start ?? FAKE_EPOCH;
    this.#settleRounds = options.settleRounds ?? 2;
    this.#trace = options.traceTimers ?? false;
  }

  now(): number {
    return this.#now;
  }

  /** Milliseconds since the clock was made at `start` (for messages). */
  elapsed(start = FAKE_EPOCH): number {
    return this.#now - start;
  }

  setTimeout(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle {
    const delay = Number.isFinite(ms) ? Math.max(0, Math.floor(ms)) : 0;
    const timer: Timer = {
      due: this.#now + delay,
      seq: this.#seq++,
      fn,
      unref: opts?.unref ?? false,
      stack: this.#trace ? new Error('timer set here').stack : undefined,
      cancelled: false,
    };
    this.#push(timer);
    this.#live++;
    return timer;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const timer = handle as Timer | undefined;
    if (!timer || timer.cancelled) return;
    timer.cancelled = true;
    this.#live--;
  }

  soon(fn: () => void): void {
    this.#soon.push(fn);
  }

  /** Timers set and neither fired nor cleared, `soon` tasks not yet run included. */
  pendingTimers(): number {
    return this.#live + this.#soon.length;
  }

  /** What is still pending, for a failing assertion's message. */
  pendingTimerList(): string[] {
    const timers = this.#heap
      .filter((t) => !t.cancelled)
      .sort(compare)
      .map((t) => `timer due in ${t.due - this.#now} ms${t.unref ? ' (unref)' : ''}${t.stack ? `\n${t.stack.split('\n').slice(2, 8).join('\n')}` : ''}`);
    return [...this.#soon.map(() => 'soon task'), ...timers];
  }

  /** Due time of the next timer, or undefined when none is set. */
  nextTimerAt(): number | undefined {
    this.#dropCancelledHead();
    return this.#heap[0]?.due;
  }

  /** Lets every promise job already started run to the point where it waits on this clock. */
  async settle(): Promise<void> {
    for (let i = 0; i < this.#settleRounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves time forward by `ms`, running everything due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.#runTo(this.#now + Math.max(0, ms), () => false);
  }

  /** Moves time forward to `time` (epoch ms). */
  async advanceTo(time: number): Promise<void> {
    await this.#runTo(Math.max(this.#now, time), () => false);
  }

  /**
   * Runs tasks in order until `done()` holds (checked after each task has settled), for
   * at most `maxMs` of fake time. Resolves with whether it held; time stops where it did.
   */
  async runUntil(done: () => boolean, maxMs: number): Promise<boolean> {
    await this.settle();
    if (done()) return true;
    return this.#runTo(this.#now + maxMs, done);
  }

  /** Runs until nothing is pending or `maxMs` passed; true when nothing is pending. */
  async runAll(maxMs: number): Promise<boolean> {
    return this.runUntil(() => this.pendingTimers() === 0, maxMs);
  }

  /**
   * Drives the clock until `promise` settles (at most `maxMs` of fake time) and returns
   * its outcome; a promise still pending then is an error naming the fake time spent.
   */
  async drive<T>(promise: Promise<T>, maxMs: number): Promise<T> {
    let state: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    promise.then(
      (value) => (state = { ok: true, value }),
      (error: unknown) => (state = { ok: false, error }),
    );
    const start = this.#now;
    if (!(await this.runUntil(() => state !== undefined, maxMs))) {
      throw new Error(`still pending after ${this.#now - start} ms of fake time; pending: ${this.pendingTimerList().join('; ') || 'nothing'}`);
    }
    if (!state!.ok) throw state!.error;
    return state!.value;
  }

  /** Like drive(), but returns when it settled (fake ms after the call), not what it settled with. */
  async settledAfter(promise: Promise<unknown>, maxMs: number): Promise<number> {
    const start = this.#now;
    await this.drive(
      promise.catch(() => undefined),
      maxMs,
    );
    return this.#now - start;
  }

  async #runTo(end: number, done: () => boolean): Promise<boolean> {
    // Two loops driving one clock would interleave their tasks: a test bug, never intended.
    if (this.#driving) throw new Error('the fake clock is already being driven (an advance/runUntil/drive not awaited?)');
    this.#driving = true;
    try {
      return await this.#loop(end, done);
    } finally {
      this.#driving = false;
    }
  }

  async #loop(end: number, done: () => boolean): Promise<boolean> {
    let sameInstant = 0;
    for (;;) {
      const before = this.#now;
      const task = this.#next(end);
      if (!task) {
        if (this.#now >= end) return done();
        // Time jumps to the end; what that settles may still start work due now.
        this.#now = end;
        await this.settle();
        if (done()) return true;
        continue;
      }
      sameInstant = this.#now === before ? sameInstant + 1 : 0;
      if (sameInstant > this.maxTasksPerInstant) {
        throw new Error(`more than ${this.maxTasksPerInstant} tasks at one fake instant: a busy loop (pending: ${this.pendingTimerList().slice(0, 5).join('; ')})`);
      }
      this.tasksRun++;
      try {
        task();
      } catch (err) {
        this.taskErrors.push(err);
      }
      await this.settle();
      if (done()) return true;
    }
  }

  /** The next task due by `end`, with time moved to it; undefined when there is none. */
  #next(end: number): (() => void) | undefined {
    const soon = this.#soon.shift();
    if (soon) return soon;
    this.#dropCancelledHead();
    const head = this.#heap[0];
    if (!head || head.due > end) return undefined;
    this.#pop();
    this.#live--;
    head.cancelled = true;
    this.#now = Math.max(this.#now, head.due);
    return head.fn;
  }

  #dropCancelledHead(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
  }

  #push(timer: Timer): void {
    const h = this.#heap;
    h.push(timer);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (compare(h[i]!, h[parent]!) >= 0) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && compare(h[l]!, h[min]!) < 0) min = l;
      if (r < h.length && compare(h[r]!, h[min]!) < 0) min = r;
      if (min === i) break;
      [h[i], h[min]] = [h[min]!, h[i]!];
      i = min;
    }
  }
}

function compare(a: Timer, b: Timer): number {
  return a.due - b.due || a.seq - b.seq;
}
