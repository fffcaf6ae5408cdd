/**
 * A batch of records for one partition, from the first append to the broker's answer.
 *
 * Records are encoded into the pooled buffer as they are appended (send() copies, so the
 * caller may reuse its objects at once). `finish` fills in the header when the batch is
 * drained; a retry sends the very same bytes.
 */
import { MIN_RECORD_SIZE } from '../protocol/records/layout.js';
import {
  decodeRecordBatchesSync,
  encodeRecordBatch,
  RecordBatchBuilder,
  restamp,
  type DecodedRecord,
  type FinishOptions,
  type ProducerStamp,
  type RecordHeadersInput,
  type RecordInput,
} from '../protocol/records/index.js';
import { numberArray, objectArray } from './arrays.js';
import type { BatchAnswer, DeliveryCallback, RecordMetadata } from './types.js';

/** What an append needs of a record; the producer's ProducerRecord fits. */
export interface AppendRecord {
  key?: RecordInput['key'] | undefined;
  value: RecordInput['value'];
  headers?: RecordHeadersInput | undefined;
}

/**
 * A batch in a buffer this small is not compacted: batches start in such buffers (see
 * startSizes), and moving a few hundred bytes out of one would cost an allocation and a
 * copy for every batch of a producer writing to many partitions, to free a kilobyte or two.
 */
const SMALL_BUFFER_BYTES = 4096;

/** A record with no key, value or headers, and its length prefix. */
const SMALLEST_RECORD_BYTES = MIN_RECORD_SIZE + 1;

// The timestamp starts as a double (NaN), as every real one is (milliseconds since 1970
// are past V8's small-integer range), so the object has its one shape from the start
// rather than changing it at the first record.
const stamped: RecordInput = { key: null, value: null, headers: undefined, timestamp: Number.NaN };

/**
 * The builder's finish options: written out, because V8 (Node 20) copies an object
 * holding a bigint through its slow path, and `{ ...stamp, crc }` cost more than the
 * rest of finishing a small batch, CRC included.
 */
function finishing(stamp: ProducerStamp | undefined, crc: boolean): FinishOptions {
  if (!stamp) return { crc };
  return {
    producerId: stamp.producerId,
    producerEpoch: stamp.producerEpoch,
    baseSequence: stamp.baseSequence,
    transactional: stamp.transactional,
    partitionLeaderEpoch: stamp.partitionLeaderEpoch,
    crc,
  };
}

/** `record` stamped `timestamp`, in the one scratch object: the builder copies its bytes at once. */
function scratch(record: AppendRecord, timestamp: number): RecordInput {
  stamped.key = record.key ?? null;
  stamped.value = record.value;
  stamped.headers = record.headers;
  stamped.timestamp = timestamp;
  return stamped;
}

/** Passes `result` through, letting go of the scratch record's buffers. */
function cleared<T>(result: T): T {
  stamped.key = stamped.value = null;
  stamped.headers = undefined;
  return result;
}

/** What a delivery callback threw (boxed: a callback may throw anything, undefined included). */
export interface CallbackFailure {
  error: unknown;
}

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  buffer: Buffer;
  readonly builder: RecordBatchBuilder;
  readonly createdAt: number;
  readonly deadline: number;
  readonly #callbacks: Array<DeliveryCallback | undefined> = objectArray();
  /**
   * The records' timestamps, as runs: a [record index, timestamp] pair wherever the
   * timestamp changes. Records sent in a loop share their millisecond, so a batch of
   * thousands holds a few pairs instead of a number per record.
   */
  readonly #timeRuns: number[] = numberArray();
  /** The timestamp of the last run (NaN before the first record): appends compare with it, not with the array. */
  #runAt = NaN;
  /** No more appends: full, drained, or split. */
  closed = false;
  inFlight = false;
  attempts = 0;
  retryAt = 0;
  /** The bytes to send, once finished (compressed when the producer compresses). */
  bytes: Buffer | undefined;
  /** The idempotent stamp the bytes carry; a batch keeps it for every retry. */
  producerId = -1n;
  producerEpoch = -1;
  baseSequence = -1;
  /**
   * The broker refused it as out of sequence while no batch before it was unresolved.
   * After a restart a broker remembers only the last batch it wrote, so a written batch
   * is refused too: it is in the log exactly when a later batch of its stamp is taken.
   */
  refused = false;
  /**
   * An attempt ended without the broker saying "not written": no answer at all, or an
   * answer that it was written but not replicated in time. Only such a batch can be in
   * the log without our knowing.
   */
  maybeWritten = false;
  /** A later batch of the same stamp was taken, so this one is in the log: whatever its answer says. */
  written = false;
  /**
   * A later batch of the same stamp was taken although every attempt of this one was
   * answered "not written": the leader took a sequence past it, having lost our
   * producer state, and this batch can no longer be written in order. It fails with this.
   */
  overtaken: Error | undefined;
  #aborted: Set<number> | undefined;
  #settled: Array<[number, () => void]> | undefined;
  #done = false;
  /** The finished, uncompressed bytes (what a split starts from). */
  #plain: Buffer | undefined;
  /** Whether the buffer came from the pool (split batches own plain memory). */
  pooled: boolean;
  /**
   * Bytes of the memory budget held for this batch's own copy of its bytes, once compact()
   * gave its pooled buffer back; released with the batch, as the buffer would have been.
   */
  charged = 0;

  /**
   * The size the batch may grow to: it may start in a smaller buffer (most batches of a
   * producer writing to many partitions hold a few records) and move into a bigger one.
   */
  readonly limit: number;

  /** Records appended and not aborted: the ones that still await an answer. */
  #live = 0;
  /** Set once the batch is finished without its aborted records. */
  #finishedCount: number | undefined;

  constructor(topic: string, partition: number, buffer: Buffer, now: number, deadline: number, pooled = true, limit = buffer.length) {
    this.topic = topic;
    this.partition = partition;
    this.buffer = buffer;
    this.limit = Math.max(limit, buffer.length);
    this.builder = new RecordBatchBuilder(buffer);
    this.createdAt = now;
    this.deadline = deadline;
    this.pooled = pooled;
  }

  /** Records the finished batch holds (or will hold): aborted ones are left out. */
  get recordCount(): number {
    return this.#finishedCount ?? this.builder.recordCount - (this.#aborted?.size ?? 0);
  }

  /** Records whose delivery callback has not run yet. */
  get liveCount(): number {
    return this.#live;
  }

  get sizeInBytes(): number {
    return this.bytes?.length ?? this.builder.sizeInBytes;
  }

  /** Appends a record stamped `timestamp`; false (nothing written) when the buffer has no room. */
  tryAppend(record: AppendRecord, timestamp: number, callback: DeliveryCallback | undefined): boolean {
    if (this.closed) return false;
    const index = cleared(this.builder.append(scratch(record, timestamp)));
    if (index < 0) return false;
    this.#live++;
    if (this.#runAt !== timestamp) {
      this.#timeRuns.push(this.#callbacks.length, timestamp);
      this.#runAt = timestamp;
    }
    this.#callbacks.push(callback);
    return true;
  }

  /** The batch's exact size with `record` appended, or Infinity when it is closed. */
  sizeWith(record: AppendRecord, timestamp: number): number {
    if (this.closed) return Infinity;
    return cleared(this.builder.sizeWith(scratch(record, timestamp)));
  }

  /**
   * Moves the open batch into `bigger` (up to `limit`); returns the buffer it leaves, for
   * the caller to give back.
   */
  grow(bigger: Buffer): Buffer {
    if (this.closed || !this.pooled || bigger.length > this.limit) throw new Error('kafka-wire bug: growing a batch that may not grow');
    const before = this.builder.grow(bigger);
    this.buffer = bigger;
    return before;
  }

  /** No record fits any more, however it grows (or the batch was closed): it need not linger. */
  get full(): boolean {
    return this.closed || this.limit - this.builder.sizeInBytes < SMALLEST_RECORD_BYTES;
  }

  /** Index of the last record appended, for an AbortSignal to refer to it. */
  get lastIndex(): number {
    return this.builder.recordCount - 1;
  }

  /**
   * Cancels one record of a batch not yet in a request; it is left out when the batch is
   * finished. Returns its callback (for the caller to complete), or false when it is too
   * late: the record is in a request, or already ended.
   */
  abort(index: number): DeliveryCallback | undefined | false {
    if (this.bytes !== undefined || this.inFlight || this.#done || this.#aborted?.has(index)) return false;
    (this.#aborted ??= new Set()).add(index);
    const cb = this.#callbacks[index];
    this.#callbacks[index] = undefined;
    this.#live--;
    return cb;
  }

  /** Runs `fn` once the record at `index` is delivered, failed or aborted. */
  onSettled(index: number, fn: () => void): void {
    (this.#settled ??= []).push([index, fn]);
  }

  #runSettled(): void {
    const list = this.#settled;
    this.#settled = undefined;
    if (list) for (const [, fn] of list) fn();
  }

  /** Delivered or failed: every record has its answer. */
  get done(): boolean {
    return this.#done;
  }

  get allAborted(): boolean {
    return this.#live === 0 && this.builder.recordCount > 0;
  }

  /** Whether the broker may have seen it: some attempt went into a request. */
  get sent(): boolean {
    return this.attempts > 0;
  }

  /**
   * Closes the batch and returns its bytes. Aborted records are dropped here, by
   * re-encoding the survivors, which is rare enough not to burden the append path.
   */
  finish(stamp?: ProducerStamp, opts: { compressedNext?: boolean } = {}): Buffer {
    this.closed = true;
    if (this.bytes) {
      if (stamp) restamp(this.bytes, stamp);
      return this.bytes;
    }
    // Stamping as the header is first written computes the CRC once, not twice; a batch
    // compressed next gets its CRC from the compression, over the bytes that are sent.
    if (!this.#aborted) return (this.bytes = this.#plain = this.builder.finish(finishing(stamp, !opts.compressedNext)));
    const all = decodeRecordBatchesSync(this.builder.finish(), { verifyCrc: false }).batches[0]!.records;
    const timestamps = this.#timestampsInOrder();
    const kept: RecordInput[] = [];
    const callbacks: Array<DeliveryCallback | undefined> = [];
    const runs: number[] = [];
    all.forEach((r, i) => {
      if (this.#aborted!.has(i)) return;
      kept.push({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
      if (runs.length === 0 || runs[runs.length - 1] !== timestamps[i]) runs.push(callbacks.length, timestamps[i]!);
      callbacks.push(this.#callbacks[i]);
    });
    this.#callbacks.splice(0, Infinity, ...callbacks);
    this.#timeRuns.splice(0, Infinity, ...runs);
    this.#aborted = undefined;
    this.#finishedCount = kept.length;
    return (this.bytes = this.#plain = encodeRecordBatch(kept, stamp));
  }

  /** Every record's timestamp, by index (the runs written out; for the rare re-encoding). */
  #timestampsInOrder(): number[] {
    const runs = this.#timeRuns;
    const all: number[] = [];
    for (let run = 0; run < runs.length; run += 2) {
      const end = run + 2 < runs.length ? runs[run + 2]! : this.#callbacks.length;
      while (all.length < end) all.push(runs[run + 1]!);
    }
    return all;
  }

  /** Stamps producer id, epoch and base sequence into the finished bytes (compressed or not). */
  stamp(producerId: bigint, producerEpoch: number, baseSequence: number, transactional = false, opts: { compressedNext?: boolean } = {}): void {
    this.finish({ producerId, producerEpoch, baseSequence, transactional }, opts);
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
  }

  /** Forgets the stamp: the broker proved the batch is not in its log, and it gets a new sequence. */
  unstamp(): void {
    this.producerId = -1n;
    this.producerEpoch = -1;
    this.baseSequence = -1;
    // What was known of the old stamp says nothing of the new one.
    this.refused = false;
    this.maybeWritten = false;
  }

  /**
   * A finished batch that fills at most half its pooled buffer (of more than 4 KiB) moves
   * its (uncompressed) bytes into a buffer of their own size, so the rest of the pooled one
   * is not held until the answer (a busy partition's grown buffer drained with a few
   * records would hold the budget long after the bytes are gone). Returns the pooled buffer for the caller to
   * give back, and the batch then holds `charged` bytes of the budget instead; undefined
   * when nothing was moved. (The sender does it for uncompressed batches only.)
   */
  compact(): Buffer | undefined {
    const plain = this.#plain;
    if (!this.pooled || !plain || plain.length * 2 > this.buffer.length || this.buffer.length <= SMALL_BUFFER_BYTES) return undefined;
    // Memory of its own: a slice of Node's shared slab would keep the whole slab alive
    // until this batch is answered.
    const own = Buffer.allocUnsafeSlow(plain.length);
    plain.copy(own);
    if (this.bytes === plain) this.bytes = own;
    this.#plain = own;
    const pooled = this.buffer;
    // The pooled buffer goes back to the pool now: nothing here may point into it after.
    this.buffer = own;
    this.pooled = false;
    this.charged = own.length;
    return pooled;
  }

  /**
   * The batch's bytes are now `compressed` (memory of their own): the uncompressed ones
   * are not needed again (a retry resends the compressed bytes; a split reads them back
   * from those), so the pooled buffer goes back at once rather than after the answer. A
   * megabyte of lz4-compressed records then holds a few kilobytes until answered, and the
   * pool has buffers to reuse (fresh ones cost the kernel's page zeroing on first write).
   * Returns the pooled buffer for the caller to give back (the batch then holds `charged`
   * bytes of the budget), or undefined when the batch holds no pooled buffer any more.
   */
  compressed(compressed: Buffer): Buffer | undefined {
    this.bytes = compressed;
    this.#plain = undefined;
    if (!this.pooled || this.#done) return undefined;
    const pooled = this.buffer;
    // The pooled buffer goes back to the pool now: nothing here may point into it after.
    this.buffer = compressed;
    this.pooled = false;
    this.charged = Math.min(compressed.length, pooled.length);
    return pooled;
  }

  /** The finished uncompressed bytes, while the batch has them (see compressed()). */
  get plain(): Buffer | undefined {
    return this.#plain;
  }

  /**
   * Delivered: each record learns its offset (baseOffset + its index). Every callback
   * runs even if one throws; the first error thrown is returned for the caller to raise
   * once its bookkeeping is done.
   */
  complete(answer: BatchAnswer): CallbackFailure | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    this.#live = 0;
    const { baseOffset, logStartOffset } = answer;
    const appendTime = answer.logAppendTimeMs >= 0n ? Number(answer.logAppendTimeMs) : -1;
    const known = baseOffset >= 0n;
    let offset = baseOffset;
    let failure: CallbackFailure | undefined;
    const runs = this.#timeRuns;
    let run = 0;
    let timestamp = 0;
    for (let i = 0; i < this.#callbacks.length; i++, offset = known ? offset + 1n : offset) {
      if (run < runs.length && runs[run] === i) {
        timestamp = runs[run + 1]!;
        run += 2;
      }
      const cb = this.#callbacks[i];
      if (!cb) continue;
      const metadata: RecordMetadata = {
        topic: this.topic,
        partition: this.partition,
        offset: known ? offset : -1n,
        timestamp: appendTime >= 0 ? appendTime : timestamp,
        logStartOffset,
      };
      try {
        cb(null, metadata);
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#callbacks.length = 0;
    this.#runSettled();
    return failure;
  }

  /** Failed: every record's callback gets `err`; as complete(), the first error a callback throws is returned. */
  fail(err: Error): CallbackFailure | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    this.#live = 0;
    let failure: CallbackFailure | undefined;
    for (const cb of this.#callbacks) {
      try {
        cb?.(err, null);
      } catch (error) {
        failure ??= { error };
      }
    }
    this.#callbacks.length = 0;
    this.#runSettled();
    return failure;
  }

  /** The records, read back from the uncompressed bytes (compressed ones: the caller decodes them and passes them to split). */
  #records(): readonly DecodedRecord[] {
    const plain = this.#plain ?? (this.bytes === undefined ? this.finish() : undefined);
    if (!plain) throw new Error('kafka-wire bug: a compressed batch split without its records decoded');
    return decodeRecordBatchesSync(plain, { verifyCrc: false }).batches[0]!.records;
  }

  /**
   * Halves a batch the broker refused as too large (MESSAGE_TOO_LARGE), keeping order
   * and each record's completion. The halves own plain (unpooled) memory.
   */
  split(now: number, records: readonly DecodedRecord[] = this.#records()): [ProducerBatch, ProducerBatch] {
    const middle = Math.ceil(records.length / 2);
    const halves = [records.slice(0, middle), records.slice(middle)].map((part, h) => {
      const inputs: RecordInput[] = part.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }));
      const bytes = encodeRecordBatch(inputs);
      // The original deadline: splitting is not a reason to wait longer.
      const batch = new ProducerBatch(this.topic, this.partition, Buffer.alloc(bytes.length), now, this.deadline, false);
      const offset = h === 0 ? 0 : middle;
      inputs.forEach((r, i) => batch.tryAppend(r, r.timestamp!, this.#callbacks[offset + i]));
      batch.closed = true;
      return batch;
    });
    // The records live on in the halves; nothing of them can be aborted any more.
    this.#done = true;
    this.#live = 0;
    this.#callbacks.length = 0;
    this.#runSettled();
    return halves as [ProducerBatch, ProducerBatch];
  }
}
