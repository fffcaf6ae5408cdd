/**
 * Appends a record to its partition's open batch, or opens a new batch when memory
 * allows: the step where a record's bytes are written, once, into pooled memory. Also the
 * size check that refuses at send() a record that could never be sent, and the
 * drop-oldest policy that makes room when memory is full.
 */
import { AbortedError, BufferFullError, RecordDroppedError, RecordTooLargeError } from '../errors.js';
import { ProduceRequestSize } from '../protocol/produce-size.js';
import { sizeOfRecordBatch } from '../protocol/records/index.js';
import type { BufferPool } from './buffer-pool.js';
import type { Clock } from './clock.js';
import type { Completion } from './completion.js';
import type { TopicState } from './metadata.js';
import type { ResolvedOptions } from './options.js';
import type { PartitionChooser } from './partition-chooser.js';
import type { Partitions, PartitionState } from './partition-state.js';
import { ProducerBatch } from './producer-batch.js';
import type { DeliveryCallback, ProducerRecord } from './types.js';

/** The smallest buffer a new batch starts in: a few small records' worth. */
const MIN_FIRST_BUFFER = 1024;

function nextPowerOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

/** An upper bound on the UTF-8 bytes of a key or value, without encoding it. */
function roughLength(v: ProducerRecord['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? v.length * 3 : v.byteLength;
}

export interface AppenderContext {
  options: ResolvedOptions;
  clock: Clock;
  partitions: Partitions;
  pool: BufferPool;
  chooser: PartitionChooser;
  completion: Completion;
  /** A batch is full or new: the sender may have work. */
  wake(): void;
}

export class Appender {
  readonly #ctx: AppenderContext;
  // Read on every append: kept as fields rather than looked up in #ctx each time.
  readonly #o: ResolvedOptions;
  readonly #pool: BufferPool;
  readonly #partitions: Partitions;
  readonly #chooser: PartitionChooser;

  constructor(ctx: AppenderContext) {
    this.#ctx = ctx;
    this.#o = ctx.options;
    this.#pool = ctx.pool;
    this.#partitions = ctx.partitions;
    this.#chooser = ctx.chooser;
  }

  /** A record too big to ever be sent is refused at once, not after a trip to the broker. */
  checkSize(record: ProducerRecord, timestamp: number): void {
    const o = this.#o;
    // Cheap bound first (Java's estimate: 61 + 21 + key + value, plus headers): most
    // records are nowhere near a limit, and the exact size is only needed near one.
    const rough = 82 + roughLength(record.key) + roughLength(record.value) + (record.headers ? 4096 : 0) + 3 * record.topic.length;
    if (rough + 1024 < Math.min(o.maxRequestSize, o.bufferMemory) && record.headers === undefined) return;
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
   * Appends now if the open batch has room, can grow, or memory is free for a new batch
   * (or `reserved` was set aside for it: it is used or given back); otherwise the bytes
   * of memory the record needs.
   */
  tryAppend(
    topic: TopicState,
    record: ProducerRecord,
    timestamp: number,
    callback: DeliveryCallback | undefined,
    signal: AbortSignal | undefined,
    reserved?: Buffer,
  ): true | number {
    const o = this.#o;
    const pool = this.#pool;
    const chooser = this.#chooser;
    const partition = chooser.choose(topic, record);
    const state = this.#partitions.get(topic.name, partition);
    const open = state.open;
    const sizeBefore = open?.sizeInBytes ?? 0;
    let batch: ProducerBatch;
    if (open && open.tryAppend(record, timestamp, callback)) {
      batch = open;
      if (reserved) pool.release(reserved);
    } else {
      const alone = sizeOfRecordBatch([{ key: record.key ?? null, value: record.value, headers: record.headers, timestamp }], timestamp);
      const grown = open?.canGrow ? this.#grow(open, alone, record, timestamp, callback, reserved) : undefined;
      if (typeof grown === 'number') return grown;
      if (grown === true) {
        batch = open!;
      } else {
        const created = this.#newBatch(state, topic.name, partition, alone, reserved);
        if (typeof created === 'number') return created;
        batch = created;
        if (!batch.tryAppend(record, timestamp, callback)) throw new Error('kafka-wire bug: a record does not fit the batch sized for it');
      }
      this.#ctx.wake();
    }
    if (batch.sizeInBytes >= o.batchSize) this.#ctx.wake();
    chooser.appended(topic.name, partition, batch.sizeInBytes, batch.sizeInBytes - sizeBefore);
    if (signal) this.#abortableInBatch(state, batch, signal);
    return true;
  }

  /**
   * Moves the open batch to a buffer twice as big (at least enough for the record, at
   * most its limit) and appends there. True when appended; the bytes needed when memory
   * is short; undefined when even grown the record would not fit (a new batch it is).
   */
  #grow(
    batch: ProducerBatch,
    alone: number,
    record: ProducerRecord,
    timestamp: number,
    callback: DeliveryCallback | undefined,
    reserved: Buffer | undefined,
  ): true | number | undefined {
    const wanted = batch.sizeInBytes + alone;
    if (wanted > batch.limit) return undefined;
    const size = Math.min(batch.limit, Math.max(batch.buffer.length * 2, wanted));
    const buffer = reserved && reserved.length >= size ? reserved : this.#pool.tryAllocate(size);
    if (reserved && buffer !== reserved) this.#pool.release(reserved);
    if (!buffer) return size;
    this.#pool.release(batch.grow(buffer));
    if (!batch.tryAppend(record, timestamp, callback)) throw new Error('kafka-wire bug: a record does not fit the batch grown for it');
    return true;
  }

  /**
   * A new batch for the partition, in a buffer as big as its last batch needed (so a busy
   * partition starts at batchSize, and one of a thousand quiet ones does not hold 16 KiB
   * for two records), or the bytes needed when memory is short.
   */
  #newBatch(state: PartitionState, topic: string, partition: number, alone: number, reserved: Buffer | undefined): ProducerBatch | number {
    const o = this.#o;
    // Behind queued or in-flight batches a new one could not leave sooner anyway: it may
    // grow further, so the next request carries more records for the same cost.
    const limit = state.batches.length > 0 ? Math.max(o.maxBatchSize, alone) : Math.max(o.batchSize, alone);
    const size = Math.min(limit, Math.max(alone, MIN_FIRST_BUFFER, nextPowerOfTwo(state.lastBatchBytes)));
    const buffer = reserved && reserved.length >= size ? reserved : this.#pool.tryAllocate(size);
    if (reserved && buffer !== reserved) this.#pool.release(reserved);
    if (!buffer) return size;
    const now = this.#ctx.clock.now();
    const batch = new ProducerBatch(topic, partition, buffer, now, now + o.deliveryTimeoutMs, true, limit);
    this.#partitions.add(state, batch);
    return batch;
  }

  /** Lets the record just appended be cancelled by its signal until its batch goes into a request. */
  #abortableInBatch(state: PartitionState, batch: ProducerBatch, signal: AbortSignal): void {
    const index = batch.lastIndex;
    const onAbort = (): void => {
      this.#ctx.completion.recordAborted(state, batch, index, new AbortedError('send aborted before its record went into a request', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    batch.onSettled(index, () => signal.removeEventListener('abort', onAbort));
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
