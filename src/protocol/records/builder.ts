/**
 * The producer's open batch: records are encoded straight into a pooled Buffer, after
 * room left for the header, which `finish` fills in once the count, the timestamps and
 * the producer's identity are known.
 */
import { ProtocolError } from '../../errors.js';
import { NO_PRODUCER, writeBatchHeader, type ProducerStamp } from './batch-header.js';
import { NO_TIMESTAMP, RECORD_BATCH_OVERHEAD, TRANSACTIONAL_FLAG_MASK } from './layout.js';
import { HeaderScratch, measureRecord, sizeOfRecord, writeRecord, type RecordInput } from './record.js';

export interface RecordBatchBuilderOptions {
  /** Timestamp for records that carry none. Defaults to Date.now. */
  clock?: () => number;
}

export type FinishOptions = Partial<ProducerStamp> & {
  /**
   * false leaves the CRC zero, for a batch that is compressed next: compressing writes
   * the CRC of what is sent, and one over the uncompressed records would be thrown away.
   */
  crc?: boolean;
};

/** Passed for a record without headers, which leaves the scratch alone. */
const NOT_USED = new HeaderScratch();

export class RecordBatchBuilder {
  #buffer: Buffer;
  /** The batch may grow to this many bytes, header included (until grow() gives it more room). */
  #capacity: number;
  #offset = RECORD_BATCH_OVERHEAD;
  /** Made for the first record with headers: most batches have none, and many batches hold a record or two. */
  #headers: HeaderScratch | undefined;
  readonly #clock: () => number;
  #recordCount = 0;
  #baseTimestamp = NO_TIMESTAMP;
  #maxTimestamp = NO_TIMESTAMP;
  #finished = false;
  /**
   * The clock reading `sizeWith` used for a record without a timestamp. Appending that
   * same record next reuses it: a later reading could cross a varlong size boundary
   * and make the size the producer accounted for wrong.
   */
  #sizedRecord: RecordInput | null = null;
  #sizedAt = 0;

  constructor(buffer: Buffer, options: RecordBatchBuilderOptions = {}) {
    if (buffer.length < RECORD_BATCH_OVERHEAD) {
      throw new RangeError(`a record batch needs at least ${RECORD_BATCH_OVERHEAD} bytes; the buffer has ${buffer.length}`);
    }
    this.#buffer = buffer;
    this.#capacity = capacityOf(buffer);
    this.#clock = options.clock ?? Date.now;
  }

  /** The buffer records are written into (replaced by grow()). */
  get buffer(): Buffer {
    return this.#buffer;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Moves the batch so far into `bigger` and goes on writing there; returns the buffer it
   * used before, which nothing here points into any more.
   */
  grow(bigger: Buffer): Buffer {
    if (this.#finished) throw new Error('cannot grow a finished record batch');
    if (bigger.length < this.#offset) throw new RangeError(`a batch of ${this.#offset} bytes cannot move into ${bigger.length}`);
    const before = this.#buffer;
    before.copy(bigger, 0, 0, this.#offset);
    this.#buffer = bigger;
    this.#capacity = capacityOf(bigger);
    return before;
  }

  get recordCount(): number {
    return this.#recordCount;
  }

  /** Exact size of the batch so far, header included (and, once finished, of the batch). */
  get sizeInBytes(): number {
    return this.#offset;
  }

  /** The batch's baseTimestamp: the first record's timestamp; -1 while empty. */
  get firstTimestamp(): number {
    return this.#baseTimestamp;
  }

  /** -1 while empty. */
  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Exact size of the batch if `record` were appended now (whether or not that fits the buffer). */
  sizeWith(record: RecordInput): number {
    let timestamp = record.timestamp;
    if (timestamp === undefined) {
      timestamp = this.#clock();
      this.#sizedRecord = record;
      this.#sizedAt = timestamp;
    }
    return this.#offset + this.#measure(record, timestamp);
  }

  /** Appends `record`, or returns false, having written nothing, when it does not fit the buffer. */
  tryAppend(record: RecordInput): boolean {
    return this.append(record) >= 0;
  }

  /**
   * Appends `record` and returns its index in the batch (its offsetDelta), or -1, having
   * written nothing, when it does not fit the buffer. The record's bytes are copied: the
   * caller may reuse its buffers and objects as soon as this returns.
   */
  append(record: RecordInput): number {
    if (this.#finished) throw new Error('cannot append to a finished record batch');
    let timestamp = record.timestamp;
    if (timestamp === undefined) timestamp = record === this.#sizedRecord ? this.#sizedAt : this.#clock();
    if (this.#sizedRecord !== null) this.#sizedRecord = null;
    const index = this.#recordCount;
    const base = index === 0 ? timestamp : this.#baseTimestamp;
    const end = writeRecord(this.#buffer, this.#offset, this.#capacity, record, timestampDelta(timestamp, base), index, this.#scratchFor(record));
    if (end < 0) return -1;
    this.#offset = end;
    if (index === 0) {
      this.#baseTimestamp = timestamp;
      this.#maxTimestamp = timestamp;
    } else if (timestamp > this.#maxTimestamp) {
      this.#maxTimestamp = timestamp;
    }
    this.#recordCount = index + 1;
    return index;
  }

  /**
   * Fills in the header and CRC and returns exactly the batch's bytes (a view of the
   * buffer). No records can be appended afterwards; calling it again re-stamps the
   * header, e.g. with a new producer epoch and sequence (as `restamp` does on the bytes).
   */
  finish(options: FinishOptions = {}): Buffer {
    const batch = this.#buffer.subarray(0, this.#offset);
    writeBatchHeader(batch, {
      baseOffset: 0,
      partitionLeaderEpoch: options.partitionLeaderEpoch ?? NO_PRODUCER.partitionLeaderEpoch,
      attributes: options.transactional ? TRANSACTIONAL_FLAG_MASK : 0,
      lastOffsetDelta: this.#recordCount - 1,
      baseTimestamp: this.#baseTimestamp,
      maxTimestamp: this.#maxTimestamp,
      producerId: options.producerId ?? NO_PRODUCER.producerId,
      producerEpoch: options.producerEpoch ?? NO_PRODUCER.producerEpoch,
      baseSequence: options.baseSequence ?? NO_PRODUCER.baseSequence,
      recordCount: this.#recordCount,
    }, options.crc ?? true);
    this.#finished = true;
    return batch;
  }

  #scratchFor(record: RecordInput): HeaderScratch {
    return record.headers === undefined ? NOT_USED : (this.#headers ??= new HeaderScratch());
  }

  /** Size of `record` at the end of this batch, after checking its timestamp. */
  #measure(record: RecordInput, timestamp: number): number {
    const base = this.#recordCount === 0 ? timestamp : this.#baseTimestamp;
    return measureRecord(record, timestampDelta(timestamp, base), this.#recordCount, this.#scratchFor(record));
  }
}

/** batchLength is an int32. */
function capacityOf(buffer: Buffer): number {
  return Math.min(buffer.length, 0x7fffffff);
}

/** Deltas are written without BigInt, which is exact only for safe integers. */
function timestampDelta(timestamp: number, base: number): number {
  const delta = timestamp - base;
  if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(timestamp)) {
    throw new RangeError(
      Number.isSafeInteger(timestamp)
        ? `timestamp ${timestamp} is too far from the batch's first timestamp ${base}`
        : `record timestamp ${timestamp} is not an integer number of milliseconds`,
    );
  }
  return delta;
}

export interface EncodeRecordBatchOptions extends FinishOptions {
  /** Timestamp for records that carry none. Defaults to one Date.now() for the whole batch. */
  timestamp?: number;
}

/** Exact size of the batch holding `records`, in order; `timestamp` stands in for missing ones. */
export function sizeOfRecordBatch(records: readonly RecordInput[], timestamp: number = Date.now()): number {
  let size = RECORD_BATCH_OVERHEAD;
  const first = records[0];
  if (first === undefined) return size;
  const base = first.timestamp ?? timestamp;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    size += sizeOfRecord(record, timestampDelta(record.timestamp ?? timestamp, base), i);
  }
  return size;
}

/**
 * One finished batch in a Buffer of its exact size: for tests, tools, and the producer
 * splitting a batch the broker found too large.
 */
export function encodeRecordBatch(records: readonly RecordInput[], options: EncodeRecordBatchOptions = {}): Buffer {
  const { timestamp = Date.now(), ...stamp } = options;
  const size = sizeOfRecordBatch(records, timestamp);
  const builder = new RecordBatchBuilder(Buffer.allocUnsafe(size), { clock: () => timestamp });
  for (let i = 0; i < records.length; i++) {
    if (builder.append(records[i]!) < 0) {
      throw new ProtocolError(`record ${i} does not fit the ${size} bytes sized for its batch`);
    }
  }
  return builder.finish(stamp);
}
