/**
 * Appends a record to its partition's open batch, or opens a new batch when memory
 * allows: the step where a record's bytes are written, once, into pooled memory. Also the
 * size check that refuses at send() a record that could never be sent, and the
 * drop-oldest policy that makes room when memory is full.
 */
import { AbortedError, BufferFullError, RecordDroppedError, RecordTooLargeError } from '../errors.js';
import { ProduceRequestSize } from '../protocol/produce-size.js';
import { sizeOfRecordBatch } from '../protocol/records/index.js';
import { onAbort } from './abort-listeners.js';
import type { BufferPool } from './buffer-pool.js';
import type { Clock } from './clock.js';
import type { Completion } from './completion.js';
import type { TopicState } from './metadata.js';
import type { ResolvedOptions } from './options.js';
import type { PartitionChooser } from './partition-chooser.js';
import type { Partitions, PartitionState } from './partition-state.js';
import type { LoopLoad } from './loop-load.js';
import { ProducerBatch } from './producer-batch.js';
import type { DeliveryCallback, ProducerRecord } from './types.js';

/**
 * An upper bound on the UTF-8 bytes of a key or value, without encoding it. `length`,
 * not `byteLength`: the same for bytes, and Node 20's optimizing compiler does not inline
 * the `byteLength` getter (a call costing ~10 ns, on every record).
 */
function roughLength(v: ProducerRecord['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? v.length * 3 : v.length;
}

/** No fewer bytes than `headers` take in a record: 10 per header for its two length varints, then its key and value at most. */
function roughHeadersLength(headers: ProducerRecord['headers']): number {
  if (headers === undefined) return 0;
  let bytes = 5;
  if (Array.isArray(headers)) {
    for (const h of headers as ReadonlyArray<{ key: string; value: ProducerRecord['value'] }>) bytes += 10 + h.key.length * 3 + roughLength(h.value);
  } else {
    const o = headers as Readonly<Record<string, ProducerRecord['value']>>;
    for (const key in o) if (Object.hasOwn(o, key)) bytes += 10 + key.length * 3 + roughLength(o[key]);
  }
  return bytes;
}

/**
 * The sizes a busy partition's batch may grow to, biggest first: maxBatchSize, then a
 * quarter of it, and so on while above batchSize. Few sizes, so the pool can reuse them
 * (it keeps free buffers of these sizes and the start sizes only).
 */
export function growthSizes(o: Pick<ResolvedOptions, 'batchSize' | 'maxBatchSize'>): number[] {
  const sizes: number[] = [];
  for (let size = o.maxBatchSize; size > o.batchSize; size = Math.floor(size / 4)) sizes.push(size);
  return sizes;
}

/** The smallest buffer a batch starts in. */
const SMALLEST_START_SIZE = 1024;

/**
 * The sizes a batch starts in and grows through, smallest first, up to and including
 * batchSize: batchSize, a quarter of it, and so on while at least 1 KiB. Few sizes, so
 * the pool can reuse them.
 */
export function startSizes(o: Pick<ResolvedOptions, 'batchSize'>): number[] {
  const sizes = [o.batchSize];
  for (let size = Math.floor(o.batchSize / 4); size >= SMALLEST_START_SIZE; size = Math.floor(size / 4)) sizes.unshift(size);
  return sizes;
}

/**
 * Every size a batch buffer comes in, smallest first: the start sizes, then the growth
 * sizes. The appender picks from these and the pool keeps free buffers of these only.
 */
export function batchBufferSizes(o: Pick<ResolvedOptions, 'batchSize' | 'maxBatchSize'>): number[] {
  return [...startSizes(o), ...growthSizes(o).reverse()];
}

export interface AppenderContext {
  options: ResolvedOptions;
  clock: Clock;
  partitions: Partitions;
  pool: BufferPool;
  chooser: PartitionChooser;
  completion: Completion;
  /** The partition's batch is full: the sender has work. */
  ready(state: PartitionState): void;
  /** A batch was opened: it is ready at `readyAt` (when it has lingered), or once full. */
  opened(state: PartitionState, readyAt: number): void;
  /** Whether the event loop has been busy lately: only then may a busy partition's batch grow past batchSize (loop-load.ts). */
  loopBusy: LoopLoad;
}

export class Appender {
  readonly #ctx: AppenderContext;
  // Read on every append: kept as fields rather than looked up in #ctx each time.
  readonly #o: ResolvedOptions;
  readonly #pool: BufferPool;
  readonly #partitions: Partitions;
  readonly #chooser: PartitionChooser;
  /** The sizes a batch starts in and grows through, smallest first. */
  readonly #sizes: readonly number[];
  /** Bytes between two looks at whether a batch past batchSize should keep growing. */
  readonly #checkEvery: number;

  constructor(ctx: AppenderContext) {
    this.#ctx = ctx;
    this.#o = ctx.options;
    this.#sizes = batchBufferSizes(ctx.options);
    this.#checkEvery = Math.max(1, Math.floor(ctx.options.batchSize / 4));
    this.#pool = ctx.pool;
    this.#partitions = ctx.partitions;
    this.#chooser = ctx.chooser;
  }

  /** A record too big to ever be sent is refused at once, not after a trip to the broker. */
  checkSize(record: ProducerRecord, timestamp: number): void {
    const o = this.#o;
    // Cheap bound first (Java's estimate: 61 + 21 + key + value, plus headers): most
    // records are nowhere near a limit, and the exact size is only needed near one.
    const rough = 82 + roughLength(record.key) + roughLength(record.value) + roughHeadersLength(record.headers) + 3 * record.topic.length;
    if (rough + 1024 < Math.min(o.maxRequestSize, o.bufferMemory)) return;
    const alone = sizeOfRecordBatch([{ key: record.key ?? null, value: record.value, headers: record.headers, timestamp }], timestamp);
    // Produce v3 frames cost the most bytes around a batch: check against the worst case.
    const request = new ProduceRequestSize(3, o.clientId, null);
    const requestBytes = request.bytes + request.growth(record.topic, alone);
    if (requestBytes > o.maxRequestSize || alone > o.bufferMemory) {
      const limit = requestBytes > o.maxRequestSize ? `maxRequestSize (${o.maxRequestSize})` : `bufferMemory (${o.bufferMemory})`;
      throw new RecordTooLargeError(`a record of ${alone} bytes as a batch (${requestBytes} as a request) for ${record.topic} is over ${limit}`);
    }
  }

  /**
   * Appends now if a batch has room or memory is free (or `reserved` was set aside for
   * it; it is used or given back); otherwise the bytes of memory a new batch needs.
   *
   * The record is encoded at one place only, the batch's tryAppend below: growing a batch
   * or opening one (once per batch) is #batchFor's, which hands the batch back here. V8
   * then compiles the encoding into this method once, and the per-batch paths apart: what
   * only those meet (a first growth, a first busy partition) recompiles them alone.
   */
  tryAppend(
    topic: TopicState,
    record: ProducerRecord,
    timestamp: number,
    callback: DeliveryCallback | undefined,
    signal: AbortSignal | undefined,
    reserved?: Buffer,
  ): true | number {
    let partition: number;
    try {
      partition = this.#chooser.choose(topic, record);
    } catch (err) {
      // A user's partitioner may throw (and may not have the first time this record was
      // asked about): what memory was set aside for the record goes back with the error.
      if (reserved) this.#pool.release(reserved);
      throw err;
    }
    const state = this.#partitions.get(topic.name, partition);
    const open = state.open;
    let batch = open;
    let sizeBefore = 0;
    let opened = false;
    // Round twice at most: the second time into a batch grown or opened for the record.
    for (let made = false; ; made = true) {
      if (batch !== undefined) {
        sizeBefore = batch.sizeInBytes;
        let appended: boolean;
        try {
          appended = batch.tryAppend(record, timestamp, callback);
        } catch (err) {
          // A record's field can throw when read (a getter, a Proxy): a batch opened for
          // it is taken out again, not left empty on the partition holding memory.
          if (opened) this.#discard(state, batch);
          throw err;
        }
        if (appended) break;
        if (made) throw new Error('kafka-wire bug: a record does not fit the batch made for it');
      }
      const next = this.#batchFor(topic, partition, state, batch, record, timestamp, reserved);
      if (typeof next === 'number') return next;
      opened = next !== batch;
      batch = next;
      reserved = undefined;
    }
    if (reserved) this.#pool.release(reserved);
    const o = this.#o;
    const size = batch.sizeInBytes;
    const recordBytes = size - sizeBefore;
    // No room for another record like this one: the batch is as good as full, and goes now.
    // Left open, it would wait for lingerMs for the odd smaller record (or, with the sticky
    // partitioner gone to another partition, for none); the next record opens a batch anyway.
    if (batch.limit - size < recordBytes) batch.closed = true;
    // Past batchSize a batch grows only while records come faster than they leave; once they
    // no longer do, it goes as it is rather than at lingerMs. Asked every quarter of
    // batchSize (the loop's load reads the clock), so it goes within a few records.
    else if (size > o.batchSize && ((size / this.#checkEvery) | 0) !== ((sizeBefore / this.#checkEvery) | 0) && !this.#backlog(batch)) {
      batch.closed = true;
    }
    if (!opened) {
      if (size >= o.batchSize || batch.closed) this.#ctx.ready(state);
    } else if (open !== undefined || batch.full || size >= o.batchSize) {
      // A batch opened because the open one had no room: that one is full, and need not linger.
      this.#ctx.ready(state);
    } else this.#ctx.opened(state, batch.createdAt + o.lingerMs);
    this.#chooser.appended(topic.name, partition, batch.closed || size >= o.batchSize, recordBytes);
    if (signal) this.#abortableInBatch(state, batch, signal);
    return true;
  }

  /**
   * A batch with room for `record`: the open one (`open`, which has none) grown, or a new
   * one (added to the partition); the bytes of memory it needs when memory does not allow
   * it now. `reserved` is used or given back.
   */
  #batchFor(
    topic: TopicState,
    partition: number,
    state: PartitionState,
    open: ProducerBatch | undefined,
    record: ProducerRecord,
    timestamp: number,
    reserved: Buffer | undefined,
  ): ProducerBatch | number {
    const growTo = open && this.#growthFor(open, record, timestamp);
    if (open && growTo !== undefined) {
      const buffer = this.#take(growTo, reserved, open.limit);
      if (!buffer) return growTo;
      this.#pool.release(open.grow(buffer));
      return open;
    }
    const o = this.#o;
    const exact = sizeOfRecordBatch([{ key: record.key ?? null, value: record.value, headers: record.headers, timestamp }], timestamp);
    // A busy partition (its open batch is full, or its last one got at least half of
    // batchSize) starts its new batch at batchSize. While records come faster than they
    // leave, the batch may grow past batchSize (up to maxBatchSize), so the next request
    // carries more records for the same per-request cost; it goes when full, at lingerMs,
    // with a request, or once records no longer come faster (tryAppend asks as it grows).
    // They do when the producer holds more than a request's worth (the
    // broker or the network is the limit: more, smaller requests would only slow it), or
    // when the event loop is busy (the producer's own thread is: against a broker that
    // answers fast, little is held). Otherwise the batch is full at batchSize and goes
    // then, as Java's does: lingering would only add to its records' latency. Any other
    // partition's batch starts small and grows as records come (up to batchSize): a
    // partition that gets a record now and then does not hold batchSize for each. Either
    // way memory is taken as the batch grows, not up front.
    const last = state.last;
    const busy = open !== undefined || (last !== undefined && last.builder.sizeInBytes * 2 >= o.batchSize);
    const grows = busy && this.#backlog(open);
    const limit = Math.max(grows ? o.maxBatchSize : o.batchSize, exact);
    const size = busy ? Math.max(exact, o.batchSize) : this.#sizeFor(exact, limit);
    let buffer: Buffer | undefined;
    if (grows && !reserved) {
      const start = this.#startAfter(open ?? last);
      if (start > size) buffer = this.#pool.tryAllocate(start);
    }
    // A buffer reserved while the record waited may be bigger: not past what the batch may grow to.
    buffer ??= this.#take(size, reserved, limit);
    if (!buffer) return size;
    const now = this.#ctx.clock.now();
    const batch = new ProducerBatch(topic.name, partition, buffer, now, now + o.deliveryTimeoutMs, true, limit);
    this.#partitions.add(state, batch);
    return batch;
  }

  /**
   * Whether records come faster than they leave: the producer holds more than a request's
   * worth besides `batch` (the broker or the network is the limit), or its event loop has
   * been busy (its own thread is). Not counting the batch itself: one grown to a megabyte
   * at a moderate rate (after a moment's load, a GC pause) would otherwise keep itself
   * and the next one growing, each for all of lingerMs.
   */
  #backlog(batch: ProducerBatch | undefined): boolean {
    return this.#pool.used - (batch === undefined ? 0 : batch.buffer.length) >= this.#o.maxRequestSize || this.#ctx.loopBusy();
  }

  /** Takes out a batch just opened, with no record in it, and gives its buffer back. */
  #discard(state: PartitionState, batch: ProducerBatch): void {
    this.#partitions.remove(state, batch);
    this.#pool.release(batch.buffer);
  }

  /**
   * The buffer size a busy partition's next batch starts in: the one its batch before
   * reached, so a steady stream does not copy every batch through each growth size again
   * (about a third more bytes copied per batch, for batches that end at 1 MiB). Only while
   * the budget has it and a batchSize for every partition with batches, as for growth;
   * batchSize otherwise.
   */
  #startAfter(before: ProducerBatch | undefined): number {
    const o = this.#o;
    if (!before) return o.batchSize;
    const size = this.#sizeFor(before.builder.sizeInBytes, o.maxBatchSize);
    // Past maxBatchSize: the batch before held one record bigger than a batch may grow.
    if (size <= o.batchSize || size > o.maxBatchSize) return o.batchSize;
    return this.#leavesBatchForEveryone(size) ? size : o.batchSize;
  }

  /** Whether taking `size` more bytes still leaves a batchSize in the budget for every partition with batches. */
  #leavesBatchForEveryone(size: number): boolean {
    const pool = this.#pool;
    return pool.used + size + this.#partitions.active.size * this.#o.batchSize <= pool.budget;
  }

  /**
   * The bigger buffer the open batch, which has no room for `record`, can move into to
   * take it; undefined when none can (the batch is then closed and a new one started).
   * Past batchSize (a busy partition's batch) only while a batchSize stays left in the
   * budget for every partition with batches: one partition's growth must not leave the
   * others' records waiting for memory.
   */
  #growthFor(batch: ProducerBatch, record: ProducerRecord, timestamp: number): number | undefined {
    if (!batch.pooled || batch.buffer.length >= batch.limit) return undefined;
    const bytes = batch.sizeWith(record, timestamp);
    if (bytes > batch.limit) return undefined;
    const size = this.#sizeFor(bytes, batch.limit);
    if (size <= this.#o.batchSize) return size;
    return this.#leavesBatchForEveryone(size) ? size : undefined;
  }

  /**
   * The buffer size for a batch of `bytes` that may grow to `limit`: the smallest of the
   * sizes a batch starts in and grows through (batchBufferSizes) that holds
   * them, or `bytes` when none up to `limit` does.
   */
  #sizeFor(bytes: number, limit: number): number {
    for (const size of this.#sizes) if (size >= bytes && size <= limit) return size;
    return bytes;
  }

  /**
   * A buffer of at least `size` (and at most `max`) bytes: `reserved` when it is one (it
   * was set aside for this record), otherwise from the pool, `reserved` going back;
   * undefined when memory does not allow it now.
   */
  #take(size: number, reserved: Buffer | undefined, max = Infinity): Buffer | undefined {
    if (reserved) {
      if (reserved.length >= size && reserved.length <= max) return reserved;
      // Bigger than this batch may be (the pool hands a waiter a bigger free buffer): traded
      // for one of `size` at once. Given back, it would go to the first waiter in line, which
      // could be this record again, served the same buffer, without end.
      if (reserved.length > max) return this.#pool.resize(reserved, size);
      this.#pool.release(reserved);
    }
    return this.#pool.tryAllocate(size);
  }

  /** Lets the record just appended be cancelled by its signal until its batch goes into a request. */
  #abortableInBatch(state: PartitionState, batch: ProducerBatch, signal: AbortSignal): void {
    const index = batch.lastIndex;
    const aborted = (): void => {
      this.#ctx.completion.recordAborted(state, batch, index, new AbortedError('send aborted before its record went into a request', { cause: signal.reason }));
    };
    batch.onSettled(index, onAbort(signal, aborted));
  }

  /** What `bufferFullPolicy` says when a record needs `need` bytes that are not free: true when it made room. */
  makeRoom(need: number): boolean {
    const policy = this.#ctx.options.bufferFullPolicy;
    if (policy === 'fail') throw this.memoryFull();
    return policy === 'drop-oldest' && this.#dropOldest(need);
  }

  memoryFull(): BufferFullError {
    return new BufferFullError(`the ${this.#ctx.options.bufferMemory}-byte memory budget (bufferMemory) is full and bufferFullPolicy is 'fail'`);
  }

  /** Fails the oldest batches not yet in a request (nor ever sent) until `need` bytes are free; false when nothing is left to drop. */
  #dropOldest(need: number): boolean {
    const { pool, partitions, completion, options } = this.#ctx;
    while (!pool.canAllocate(need)) {
      let oldest: [PartitionState, ProducerBatch] | undefined;
      for (const state of partitions.active) {
        const b = state.batches.find((x) => !x.inFlight && !x.sent && x.baseSequence < 0);
        if (b && (!oldest || b.createdAt < oldest[1].createdAt)) oldest = [state, b];
      }
      if (!oldest) return false;
      const err = new RecordDroppedError(`dropped unsent to make room: the ${options.bufferMemory}-byte memory budget (bufferMemory) was full and bufferFullPolicy is 'drop-oldest'`);
      completion.batchFailed(oldest[0], oldest[1], err, 'dropped');
    }
    return true;
  }
}
