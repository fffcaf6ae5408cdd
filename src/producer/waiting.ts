/**
 * Sends that could not go straight into a batch: their topic's metadata is not known yet,
 * or the memory budget is full. They wait per topic, in send() order, so a record waiting
 * for one topic holds back only the later records of that topic (order per partition is
 * what Kafka promises), never other topics.
 *
 * A waiting send holds a copy of its record (the caller owns its objects again when
 * send() returns). Those copies count against a budget of their own, `waitingMemory`
 * bytes (4 × bufferMemory by default), besides the batches' budget, so a caller that
 * ignores backpressure meets a BufferFullError instead of an out-of-memory crash.
 *
 * The records of a sendBatch() call that could not all go straight into batches wait
 * here too, as one entry per topic (a BatchRest): in line with the sends around them, so
 * a send() made after the call comes after all of its records, and read from the caller's
 * array one at a time as their turn comes, not copied (an array bigger than every budget
 * goes through at the producer's pace).
 */
import { AbortedError, BufferFullError } from '../errors.js';
import { onAbort } from './abort-listeners.js';
import type { Appender } from './appender.js';
import type { BufferPool } from './buffer-pool.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Completion, PendingRecord } from './completion.js';
import { Fifo } from './fifo.js';
import type { ClusterMetadata } from './metadata.js';
import type { ResolvedOptions } from './options.js';
import type { Bytes, DeliveryCallback, ProducerRecord } from './types.js';

/**
 * What a waiting send holds beyond its record's bytes: the entry, the copy's objects and
 * its abort hook. Measured: 313 bytes per waiting produce() of a 100-byte value on
 * Node 20 (heap diff over 100k sends); the caller's own promise is not ours to count.
 */
export const WAITING_OVERHEAD_BYTES = 320;

export interface WaitingSend extends PendingRecord {
  readonly record: ProducerRecord;
  readonly timestamp: number;
  readonly callback: DeliveryCallback | undefined;
  readonly signal: AbortSignal | undefined;
  readonly deadline: number;
  /** What it counts against the waiting budget. */
  readonly bytes: number;
  /** Stops listening to `signal`, once the send has left the queue. */
  offAbort: (() => void) | undefined;
}

/** The sendBatch() call a BatchRest belongs to. */
export interface RestOwner {
  /**
   * The record at `index` of the call's array, taken in now that its turn came in the
   * line of `topic`: the producer's checks (it throws why the record cannot be sent,
   * having taken nothing in), its timestamp, and the call's callback for it.
   */
  takeIn(index: number, topic: string): { record: ProducerRecord; timestamp: number; callback: DeliveryCallback };
  /** The call ends with `err`: a record of it could not be taken in, or the producer gave up. */
  fail(err: Error): void;
  /** `rest` has no records left to take in (all taken, or stopped). */
  ended(rest: BatchRest): void;
}

/**
 * The records of one sendBatch() call, for one topic, that the call had not taken in when
 * sends began to wait: they hold their place in the topic's line and are taken in one at
 * a time when they reach its head (WaitingSends#serve), read from the caller's array then.
 */
export class BatchRest {
  readonly topic: string;
  readonly owner: RestOwner;
  readonly signal: AbortSignal | undefined;
  /** Where this topic's records are in the call's array, in order. */
  readonly #indices: readonly number[];
  #next = 0;
  /** Ended early (its call failed or the producer gave up): the records left are never taken in. */
  stopped = false;

  constructor(topic: string, indices: readonly number[], signal: AbortSignal | undefined, owner: RestOwner) {
    this.topic = topic;
    this.#indices = indices;
    this.signal = signal;
    this.owner = owner;
  }

  /** Records not taken in yet. */
  get left(): number {
    return this.stopped ? 0 : this.#indices.length - this.#next;
  }

  /** The array index of the next record to take in, moving past it. */
  take(): number {
    return this.#indices[this.#next++]!;
  }
}

class TopicWaitQueue {
  readonly topic: string;
  readonly sends = new Fifo<WaitingSend | BatchRest>();
  /** Sends in the queue that have not ended or gone into a batch, and records of its BatchRests not taken in. */
  live = 0;
  /** Whether a loop serves this queue now. */
  serving = false;
  /** Ends the head's current wait (for metadata or memory) early: aborted, or the producer closes. */
  headWait: AbortController | undefined;
  /** The send being served: the head, or the record a BatchRest at the head is taking in. */
  current: WaitingSend | undefined;
  /** Ends the BatchRest at the head's wait for half the memory budget (see WaitingSends#halfFree): its call stopped. */
  pacing: AbortController | undefined;
  /**
   * The sends of add() in the order their maxBlockMs ends (the order they came: one
   * maxBlockMs for all), and the timer for the first: a send behind others fails when
   * its time is over, as the head does in its own wait.
   */
  readonly expiring = new Fifo<WaitingSend>();
  expiryTimer: TimerHandle | undefined;

  constructor(topic: string) {
    this.topic = topic;
  }
}

/**
 * Bytes nobody else can change: a copy of a Buffer or Uint8Array, a string as it is.
 * Strings cannot change, and encoding one here would cost an allocation and a second
 * pass over it: a 1 KiB JSON string encoded here and copied into its batch took about
 * 1.5 µs, encoded straight into the batch 0.7 (bench/README.md, fifteenth round).
 */
function ownBytes(v: Bytes | null | undefined): Bytes | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : Buffer.from(v);
}

function byteLength(v: Bytes | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
}

function headerList(r: ProducerRecord): Array<[string, Bytes | null]> {
  if (r.headers === undefined) return [];
  if (Array.isArray(r.headers)) return (r.headers as ReadonlyArray<{ key: string; value: Bytes | null }>).map((h) => [h.key, h.value]);
  return Object.entries(r.headers as Readonly<Record<string, Bytes | null>>);
}

/** What holding a copy of `r` costs against the waiting budget, before making the copy. */
export function waitingCost(r: ProducerRecord): number {
  let bytes = WAITING_OVERHEAD_BYTES + byteLength(r.key) + byteLength(r.value) + r.topic.length;
  for (const [k, v] of headerList(r)) bytes += 48 + Buffer.byteLength(k) + byteLength(v);
  return bytes;
}

/** A record whose bytes nobody else holds. */
export function ownCopy(r: ProducerRecord): ProducerRecord {
  const headers = r.headers === undefined ? undefined : headerList(r).map(([key, value]) => ({ key, value: ownBytes(value) }));
  return { topic: r.topic, key: ownBytes(r.key), value: ownBytes(r.value), headers, partition: r.partition, timestamp: r.timestamp };
}

export interface WaitingContext {
  options: ResolvedOptions;
  clock: Clock;
  metadata: ClusterMetadata;
  pool: BufferPool;
  appender: Appender;
  completion: Completion;
  /** Aborted when the producer closes. */
  signal: AbortSignal;
  /** A waiting send needed metadata: the producer keeps it fresh from now on. */
  onMetadataUsed(): void;
}

export class WaitingSends {
  readonly #ctx: WaitingContext;
  readonly #queues = new Map<string, TopicWaitQueue>();
  #count = 0;
  #bytes = 0;
  #fullError: BufferFullError | undefined;
  #readyWaiters: Array<() => void> = [];
  /** BatchRests with records left, and who waits for there to be none. */
  #rests = 0;
  #restWaiters: Array<() => void> = [];

  constructor(ctx: WaitingContext) {
    this.#ctx = ctx;
    // A ready() waiting for memory to drain does not outlive the producer's close.
    ctx.signal.addEventListener('abort', this.#wakeReady, { once: true });
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Whether sends to `topic` wait: a new one must queue behind them to keep their order. */
  has(topic: string): boolean {
    // The send path asks this for every record: no lookup while nothing waits at all.
    return this.#count > 0 && (this.#queues.get(topic)?.live ?? 0) > 0;
  }

  /**
   * Resolves at once when no send waits. Otherwise when none does any more and, if the
   * last went into a batch, half the memory budget is free again: a caller pacing itself
   * on produce() and ready() then goes on with room for many records, as a stream's
   * 'drain' waits for its buffer to empty. Woken at the first free batch instead, it made
   * one batch's worth of records and waited again: each time a record copied to wait,
   * batches drained half full, pooled buffers dropped and allocated afresh (500,000 records
   * of 1 KiB: ~1.4 µs more CPU per record, twice the requests). If the last waiting send
   * failed (memory did not come within maxBlockMs), it resolves then: the caller has its
   * error to act on.
   */
  ready(): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Queues a send behind its topic's, with a copy of its record; refused at once past the waiting budget. */
  add(record: ProducerRecord, timestamp: number, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): void {
    const { options, clock, completion } = this.#ctx;
    const bytes = waitingCost(record);
    if (this.#bytes + bytes > options.waitingMemory) {
      completion.pendingFailed({ callback, settled: false }, this.#full());
      return;
    }
    let queue = this.#queues.get(record.topic);
    if (!queue) this.#queues.set(record.topic, (queue = new TopicWaitQueue(record.topic)));
    const w: WaitingSend = { record: ownCopy(record), bytes, timestamp, callback, signal, deadline: clock.now() + options.maxBlockMs, settled: false, offAbort: undefined };
    if (signal) {
      const q = queue;
      w.offAbort = onAbort(signal, () => this.#end(q, w, new AbortedError('send aborted while waiting for metadata or memory', { cause: signal.reason }), 'aborted'));
    }
    queue.sends.push(w);
    queue.expiring.push(w);
    queue.live++;
    this.#count++;
    this.#bytes += w.bytes;
    if (queue.expiryTimer === undefined) this.#armExpiry(queue, w.deadline);
    void this.#serve(queue);
  }

  #armExpiry(queue: TopicWaitQueue, at: number): void {
    const { clock } = this.#ctx;
    queue.expiryTimer = clock.setTimeout(() => this.#expire(queue), at - clock.now());
  }

  /**
   * Fails the sends whose maxBlockMs is over while they still wait behind others (the one
   * being served keeps its own deadline, in #admit): waiting in line counts as waiting,
   * as a thread blocked in Java's send() waits for the threads before it. One error per
   * round serves them all (there may be thousands).
   */
  #expire(queue: TopicWaitQueue): void {
    queue.expiryTimer = undefined;
    const { clock, metadata, options } = this.#ctx;
    const now = clock.now();
    let memoryErr: Error | undefined;
    for (let w = queue.expiring.peek(); w; w = queue.expiring.peek()) {
      if (!w.settled && w !== queue.current) {
        if (w.deadline > now) return this.#armExpiry(queue, w.deadline);
        const topic = metadata.topic(w.record.topic);
        const partition = w.record.partition;
        const err =
          !topic || (partition !== undefined && partition >= topic.partitions.length)
            ? metadata.timedOut(w.record.topic, partition ?? 0)
            : (memoryErr ??= new BufferFullError(
                `no room in the ${options.bufferMemory}-byte memory budget (bufferMemory) within ${options.maxBlockMs} ms (maxBlockMs), waiting in line behind earlier sends to ${JSON.stringify(w.record.topic)}`,
              ));
        queue.expiring.shift();
        this.#end(queue, w, err);
        continue;
      }
      queue.expiring.shift();
    }
  }

  /** Nothing waits in `queue` any more: no timer, and none of the sends that went on held. */
  #stopExpiry(queue: TopicWaitQueue): void {
    this.#ctx.clock.clearTimeout(queue.expiryTimer);
    queue.expiryTimer = undefined;
    queue.expiring.drain();
  }

  /**
   * Queues the records of a sendBatch() call from `from` on, a BatchRest per topic behind
   * what waits there; they are taken in (owner.takeIn) as their turn comes. Returns them,
   * for the call to stop at its first failure.
   */
  addRest(records: readonly ProducerRecord[], from: number, signal: AbortSignal | undefined, owner: RestOwner): BatchRest[] {
    const byTopic = new Map<string, number[]>();
    for (let i = from; i < records.length; i++) {
      const topic = records[i]!.topic;
      const indices = byTopic.get(topic);
      if (indices) indices.push(i);
      else byTopic.set(topic, [i]);
    }
    const rests: BatchRest[] = [];
    for (const [topic, indices] of byTopic) {
      let queue = this.#queues.get(topic);
      if (!queue) this.#queues.set(topic, (queue = new TopicWaitQueue(topic)));
      const rest = new BatchRest(topic, indices, signal, owner);
      queue.sends.push(rest);
      queue.live += indices.length;
      this.#count += indices.length;
      this.#rests++;
      rests.push(rest);
    }
    for (const rest of rests) void this.#serve(this.#queues.get(rest.topic)!);
    return rests;
  }

  /** Stops a BatchRest: its records not taken in yet never will be. */
  stop(rest: BatchRest): void {
    const left = rest.left;
    if (left === 0) return;
    rest.stopped = true;
    const queue = this.#queues.get(rest.topic);
    if (queue) queue.live -= left;
    if (queue?.sends.peek() === rest) queue.pacing?.abort();
    if (queue?.live === 0) this.#stopExpiry(queue);
    this.#count -= left;
    this.#restEnded(rest);
    this.#left(true);
  }

  /** BatchRests with records not taken in yet. */
  get rests(): number {
    return this.#rests;
  }

  /** Resolves once no BatchRest has records left to take in. */
  noRestsLeft(): Promise<void> {
    if (this.#rests === 0) return Promise.resolve();
    return new Promise((resolve) => this.#restWaiters.push(resolve));
  }

  #restEnded(rest: BatchRest): void {
    rest.owner.ended(rest);
    if (--this.#rests > 0) return;
    for (const wake of this.#restWaiters.splice(0)) wake();
  }

  /** Ends every waiting send with `err` (close, an aborted or fenced transaction), and every sendBatch() call with records still to take in. */
  failAll(err: Error): void {
    for (const queue of this.#queues.values()) {
      // The record a BatchRest is taking in is not in the queue itself.
      if (queue.current) this.#end(queue, queue.current, err);
      queue.headWait?.abort();
      // A copy: ending the head shifts the queue.
      for (const w of [...queue.sends]) {
        if (w instanceof BatchRest) w.owner.fail(err);
        else this.#end(queue, w, err);
      }
    }
  }

  /**
   * The error for a send refused because the waiting budget is full. One object serves
   * every refusal until the budget has room again: a caller ignoring backpressure may be
   * refused millions of times, and an error with its stack trace per refusal would cost
   * more memory than the records it keeps out.
   */
  #full(): BufferFullError {
    this.#fullError ??= new BufferFullError(
      `${this.#count} sends already wait for metadata or memory, holding ${this.#bytes} bytes of their ${this.#ctx.options.waitingMemory}-byte budget (waitingMemory): further sends are refused until they drain; honour produce()'s backpressure (await ready())`,
    );
    return this.#fullError;
  }

  /** Serves one topic's waiting sends in order: metadata first, then memory, then the append. */
  async #serve(queue: TopicWaitQueue): Promise<void> {
    if (queue.serving) return;
    queue.serving = true;
    try {
      for (let head = queue.sends.peek(); head && !this.#ctx.signal.aborted; head = queue.sends.peek()) {
        const w = head instanceof BatchRest ? this.#takeFrom(queue, head) : head;
        if (!w) continue;
        if (w.settled) {
          queue.sends.shift();
          continue;
        }
        queue.current = w;
        let waited = false;
        try {
          // Most waiting sends find their metadata and memory there by their turn: no
          // promise, no abort controller for them.
          if (!this.#admitNow(w)) {
            waited = true;
            await this.#admit(w, queue);
          }
          this.#end(queue, w);
        } catch (err) {
          this.#end(queue, w, err as Error);
        } finally {
          queue.headWait = undefined;
          queue.current = undefined;
        }
        if (waited && head instanceof BatchRest && head.left > 0 && !this.#ctx.pool.halfFree) await this.#halfFree(queue);
      }
    } finally {
      queue.serving = false;
      if (queue.live === 0 && this.#queues.get(queue.topic) === queue) this.#queues.delete(queue.topic);
    }
  }

  /**
   * The next record of the BatchRest at the head of `queue`, as a waiting send (not a
   * copy: the call's caller keeps its records as they are until the call settles), or
   * undefined when the rest has none left (it leaves the queue) or the record could not
   * be taken in (its call fails).
   */
  #takeFrom(queue: TopicWaitQueue, rest: BatchRest): WaitingSend | undefined {
    if (rest.left === 0) {
      queue.sends.shift();
      return undefined;
    }
    const index = rest.take();
    if (rest.left === 0) this.#restEnded(rest);
    let taken: ReturnType<RestOwner['takeIn']>;
    try {
      taken = rest.owner.takeIn(index, rest.topic);
    } catch (err) {
      // Not taken in: counted as waiting no more, and the call fails (stopping the rest).
      if (--queue.live === 0) this.#stopExpiry(queue);
      this.#count--;
      rest.owner.fail(err as Error);
      this.#left(true);
      return undefined;
    }
    const { record, timestamp, callback } = taken;
    const { clock, options } = this.#ctx;
    const signal = rest.signal;
    const w: WaitingSend = { record, bytes: 0, timestamp, callback, signal, deadline: clock.now() + options.maxBlockMs, settled: false, offAbort: undefined };
    if (signal) w.offAbort = onAbort(signal, () => this.#end(queue, w, new AbortedError('send aborted while waiting for metadata or memory', { cause: signal.reason }), 'aborted'));
    return w;
  }

  /**
   * Resolves when half the memory budget is free again (or the BatchRest at the head of
   * `queue` is stopped, or the producer closes). A sendBatch() record that had to wait for
   * memory waits this long before its call's next: as ready() paces produce() callers.
   * Taken in as soon as one batch was freed, the records of a call bigger than the budget
   * filled one batch at a time and it went out small (200,000 records of 1 KiB in one
   * call, 32 MiB budget: 435-452 requests against 265-279 paced so).
   */
  #halfFree(queue: TopicWaitQueue): Promise<void> {
    if (this.#ctx.signal.aborted) return Promise.resolve();
    const pacing = (queue.pacing = new AbortController());
    return new Promise((resolve) => {
      const stops: Array<() => void> = [];
      const done = (): void => {
        for (const stop of stops) stop();
        if (queue.pacing === pacing) queue.pacing = undefined;
        resolve();
      };
      stops.push(onAbort(pacing.signal, done), onAbort(this.#ctx.signal, done));
      stops.push(this.#ctx.pool.whenHalfFree(done));
    });
  }

  /** The send's topic is known and its batch has room (or memory is free): appended at once. */
  #admitNow(w: WaitingSend): boolean {
    const { record } = w;
    const topic = this.#ctx.metadata.topic(record.topic);
    if (!topic || (record.partition !== undefined && record.partition >= topic.partitions.length)) return false;
    return this.#ctx.appender.tryAppend(topic, record, w.timestamp, w.callback, w.signal) === true;
  }

  /** Waits for what the send needs and appends it; throws why it cannot be. */
  async #admit(w: WaitingSend, queue: TopicWaitQueue): Promise<void> {
    const { metadata, appender, pool, clock } = this.#ctx;
    const { record } = w;
    // Ended early when the send is aborted or the producer closes (see #end, failAll).
    const signal = (queue.headWait = new AbortController()).signal;
    let topic = metadata.topic(record.topic);
    if (!topic || (record.partition !== undefined && record.partition >= topic.partitions.length)) {
      topic = await metadata.waitForTopic(record.topic, w.deadline, record.partition ?? 0, signal);
      this.#ctx.onMetadataUsed();
    }
    for (let reserved: Buffer | undefined; !w.settled; ) {
      // A buffer reserved for it is used or given back by tryAppend.
      const need = appender.tryAppend(topic, record, w.timestamp, w.callback, w.signal, reserved);
      // Ended as a waiting send at once: the record is in a batch now, whose own abort
      // listener is set; a microtask later (back in #serve) an abort would have ended it twice.
      if (need === true) return void this.#end(queue, w);
      reserved = undefined;
      if (appender.makeRoom(need)) continue;
      // A bigger buffer than it needs serves too (a busy partition's batch grows into it).
      const { maxBatchSize, maxBlockMs } = this.#ctx.options;
      reserved = await pool.allocate(need, w.deadline - clock.now(), signal, maxBatchSize, maxBlockMs);
      if (w.settled) pool.release(reserved);
    }
  }

  /** A waiting send leaves its queue: into a batch (no `err`), or ended with `err`. */
  #end(queue: TopicWaitQueue, w: WaitingSend, err?: Error, kind: 'failed' | 'aborted' = 'failed'): void {
    if (w.settled) return;
    w.offAbort?.();
    if (--queue.live === 0) this.#stopExpiry(queue);
    this.#count--;
    this.#bytes -= w.bytes;
    this.#fullError = undefined;
    if (queue.sends.peek() === w) queue.sends.shift();
    if (err && queue.current === w) queue.headWait?.abort();
    if (err) this.#ctx.completion.pendingFailed(w, err, kind);
    else w.settled = true;
    // Those ended hold their record copies no longer than their turn: most end at the front.
    while (queue.expiring.peek()?.settled) queue.expiring.shift();
    this.#left(err !== undefined);
  }

  /** A send left the line (`failed`: it or its call ended without going into a batch): ready() may resolve. */
  #left(failed: boolean): void {
    if (this.#count > 0 || this.#readyWaiters.length === 0) return;
    if (failed || this.#ctx.signal.aborted) this.#wakeReady();
    else this.#ctx.pool.whenHalfFree(this.#wakeReady);
  }

  readonly #wakeReady = (): void => {
    // Sends may have begun to wait again since the pool was asked: the last of them wakes.
    if (this.#count === 0) for (const wake of this.#readyWaiters.splice(0)) wake();
  };
}
