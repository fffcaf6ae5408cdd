/**
 * Reads the `records` field of a Fetch response: RecordBatch v2 batches back to back.
 *
 * The bytes are untrusted. Lengths and counts are checked against the bytes that are
 * there before anything is allocated for them, and every failure is a ProtocolError
 * naming the batch and record, except a batch cut short at the end: Fetch stops at its
 * byte limit mid-batch, so that is reported in `truncated` and the batch left out.
 *
 * Magic 0 and 1 (the pre-0.11 message formats) are refused with a ProtocolError rather
 * than skipped: a reader that skipped them would move past records it never delivered.
 *
 * Keys, values and header values are views into `bytes` (or into the decompressed block
 * of a compressed batch), not copies.
 */
import { ConfigError, KafkaWireError, ProtocolError } from '../../errors.js';
import { CODEC_NAME, type CompressionName } from '../compression/codecs.js';
import { Reader } from '../reader.js';
import type { DecompressFunction } from './compress-batch.js';
import { crc32c } from './crc32c.js';
import {
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CRC_START,
  CURRENT_MAGIC,
  DELETE_HORIZON_FLAG_MASK,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MIN_HEADER_SIZE,
  MIN_RECORD_SIZE,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
} from './layout.js';

export interface RecordBatchAttributes {
  compression: CompressionName;
  timestampType: 'CreateTime' | 'LogAppendTime';
  transactional: boolean;
  control: boolean;
  /** baseTimestamp holds the compaction delete horizon (KIP-534). */
  hasDeleteHorizon: boolean;
}

export interface DecodedHeader {
  key: string;
  value: Buffer | null;
}

/** What the record of a control batch says. */
export interface ControlRecord {
  /** 'unknown' for control types other than transaction markers (Kafka's consumer skips those). */
  type: 'commit' | 'abort' | 'unknown';
  /** The control key's type id: 0 abort, 1 commit. */
  typeId: number;
  /** The transaction coordinator's epoch from an end-transaction marker; -1 for other types. */
  coordinatorEpoch: number;
}

export interface DecodedRecord {
  offset: bigint;
  /** With LogAppendTime, the batch's maxTimestamp (the broker's append time), as Kafka defines it. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: DecodedHeader[];
  /** Only on records of control batches. */
  control?: ControlRecord;
}

export interface RecordBatch {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: RecordBatchAttributes;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  records: DecodedRecord[];
}

export interface DecodedRecordBatches {
  batches: RecordBatch[];
  /** The bytes ended inside a batch (Fetch cuts at its byte limit); that batch is not in `batches`. */
  truncated: boolean;
}

export interface DecodeOptions {
  /** Needed for compressed batches; the compression module's `decompress` fits. */
  decompress?: DecompressFunction;
  /** Check each batch's CRC-32C. Default true. */
  verifyCrc?: boolean;
}

export async function decodeRecordBatches(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedRecordBatches> {
  const scanner = new BatchScanner(bytes, options.verifyCrc ?? true);
  const batches: RecordBatch[] = [];
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    const records = frame.codecId === 0 ? frame.records : await decompressRecords(frame, options.decompress);
    batches.push(withRecords(frame, records));
  }
  return { batches, truncated: scanner.truncated };
}

/** For uncompressed batches only: a compressed one is a ConfigError (use decodeRecordBatches). */
export function decodeRecordBatchesSync(bytes: Uint8Array, options: Omit<DecodeOptions, 'decompress'> = {}): DecodedRecordBatches {
  const scanner = new BatchScanner(bytes, options.verifyCrc ?? true);
  const batches: RecordBatch[] = [];
  for (let frame = scanner.next(); frame !== null; frame = scanner.next()) {
    if (frame.codecId !== 0) {
      throw new ConfigError(`${where(frame)} is compressed: decode it with decodeRecordBatches and a decompress function`);
    }
    batches.push(withRecords(frame, frame.records));
  }
  return { batches, truncated: scanner.truncated };
}

/** A batch whose header has been read and checked, its records section not yet. */
interface BatchFrame {
  /** Byte position of the batch in the input, for error messages. */
  start: number;
  batch: RecordBatch;
  recordCount: number;
  codecId: number;
  /** The records section: compressed when codecId is not 0. */
  records: Buffer;
}

/** Walks the input batch by batch, reading and checking each header. */
class BatchScanner {
  readonly #input: Reader;
  readonly #verifyCrc: boolean;
  truncated = false;

  constructor(bytes: Uint8Array, verifyCrc: boolean) {
    this.#input = new Reader(bytes);
    this.#verifyCrc = verifyCrc;
  }

  /** The next whole batch, or null at the end of the input or of its whole batches. */
  next(): BatchFrame | null {
    const input = this.#input;
    const start = input.offset;
    if (input.remaining === 0) return null;
    if (input.remaining < LOG_OVERHEAD) return this.#cutShort();
    const batchLength = input.buf.readInt32BE(start + LENGTH_OFFSET);
    if (batchLength < 0) throw new ProtocolError(`record batch at byte ${start} has negative batchLength ${batchLength}`, { offset: start });
    if (input.remaining < LOG_OVERHEAD + batchLength) return this.#cutShort();

    if (batchLength < MAGIC_OFFSET + 1 - LOG_OVERHEAD) {
      throw new ProtocolError(`record batch at byte ${start}: batchLength ${batchLength} leaves no room for a magic byte`, { offset: start });
    }
    const magic = input.buf.readInt8(start + MAGIC_OFFSET);
    if (magic < CURRENT_MAGIC) {
      throw new ProtocolError(`record batch at byte ${start} has magic ${magic}: legacy message format v0/v1 not supported`, {
        offset: start,
      });
    }
    if (magic > CURRENT_MAGIC) throw new ProtocolError(`record batch at byte ${start} has unknown magic ${magic}`, { offset: start });
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
      throw new ProtocolError(
        `record batch at byte ${start}: batchLength ${batchLength} is smaller than a ${RECORD_BATCH_OVERHEAD}-byte header`,
        { offset: start },
      );
    }

    const r = input.sub(LOG_OVERHEAD + batchLength, 'record batch');
    const baseOffset = r.int64();
    r.int32(); // batchLength, read above
    const partitionLeaderEpoch = r.int32();
    r.int8(); // magic, checked above
    const crc = r.uint32();
    if (this.#verifyCrc) {
      const computed = crc32c(r.buf, start + CRC_START, r.end);
      if (computed !== crc) {
        throw new ProtocolError(
          `record batch at byte ${start} (baseOffset ${baseOffset}): CRC-32C mismatch, stored 0x${hex32(crc)}, computed 0x${hex32(computed)}`,
          { offset: start },
        );
      }
    }
    const attributes = r.int16();
    const codecId = attributes & COMPRESSION_CODEC_MASK;
    const compression = CODEC_NAME[codecId];
    if (compression === undefined) {
      throw new ProtocolError(`record batch at byte ${start} (baseOffset ${baseOffset}): unknown compression codec id ${codecId}`, {
        offset: start,
      });
    }
    const batch: RecordBatch = {
      baseOffset,
      batchLength,
      partitionLeaderEpoch,
      magic,
      crc,
      attributes: {
        compression,
        timestampType: attributes & TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime',
        transactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
        control: (attributes & CONTROL_FLAG_MASK) !== 0,
        hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
      },
      lastOffsetDelta: r.int32(),
      baseTimestamp: r.int64Number(),
      maxTimestamp: r.int64Number(),
      producerId: r.int64(),
      producerEpoch: r.int16(),
      baseSequence: r.int32(),
      records: [],
    };
    const recordCount = r.int32();
    if (recordCount < 0) {
      throw new ProtocolError(`record batch at byte ${start} (baseOffset ${baseOffset}): negative recordCount ${recordCount}`, {
        offset: start,
      });
    }
    return { start, batch, recordCount, codecId, records: r.raw(r.remaining, 'records') };
  }

  #cutShort(): null {
    this.truncated = true;
    return null;
  }
}

async function decompressRecords(frame: BatchFrame, decompress: DecompressFunction | undefined): Promise<Buffer> {
  if (decompress === undefined) {
    throw new ConfigError(`${where(frame)} is compressed and no decompress function was given`);
  }
  try {
    return await decompress(frame.codecId, frame.records);
  } catch (error) {
    // A codec the decompressor refuses is its own (typed) error; anything else means bad bytes.
    if (error instanceof KafkaWireError) throw error;
    throw new ProtocolError(`${where(frame)}: its records do not decompress: ${(error as Error).message}`, {
      offset: frame.start,
      cause: error,
    });
  }
}

/** The frame's batch with its records read from `section` (decompressed if it was compressed). */
function withRecords(frame: BatchFrame, section: Buffer): RecordBatch {
  const { batch, recordCount } = frame;
  const r = new Reader(section);
  if (recordCount * MIN_RECORD_SIZE > r.remaining) {
    throw new ProtocolError(
      `${where(frame)} claims ${recordCount} records; its ${r.remaining} bytes of records hold at most ${Math.floor(r.remaining / MIN_RECORD_SIZE)}`,
      { offset: frame.start },
    );
  }
  let i = 0;
  let length = -1;
  try {
    for (; i < recordCount; i++, length = -1) {
      const at = r.offset;
      length = r.varint();
      if (length < 0) throw new ProtocolError(`negative length ${length}`, { offset: at });
      const fields = r.sub(length, 'record');
      batch.records.push(readRecord(fields, batch));
      if (fields.remaining !== 0) {
        throw new ProtocolError(`length prefix says ${length} bytes, its fields take ${length - fields.remaining}`, { offset: at });
      }
    }
    if (r.remaining !== 0) {
      throw new ProtocolError(`${r.remaining} bytes follow the last of its ${recordCount} records`, { offset: r.offset });
    }
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    const record = i === recordCount ? '' : length < 0 ? `record ${i}: ` : `record ${i} (length prefix ${length} bytes): `;
    throw new ProtocolError(`${where(frame)}: ${record}${error.message}`, { offset: error.offset, cause: error });
  }
  return batch;
}

function readRecord(r: Reader, batch: RecordBatch): DecodedRecord {
  r.int8(); // attributes: none defined for records
  const timestampDelta = r.varlongNumber();
  const offsetDelta = r.varint();
  const key = nullableBytes(r, 'key');
  const value = nullableBytes(r, 'value');
  const headerCount = r.varint();
  if (headerCount < 0 || headerCount * MIN_HEADER_SIZE > r.remaining) {
    throw new ProtocolError(`header count ${headerCount} does not fit the ${r.remaining} bytes left`, { offset: r.offset });
  }
  const headers: DecodedHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const at = r.offset;
    const keyLength = r.varint();
    if (keyLength < 0) throw new ProtocolError(`header ${i} has key length ${keyLength}`, { offset: at });
    r.need(keyLength, 'header key');
    const headerKey = r.buf.toString('utf8', r.offset, r.offset + keyLength);
    r.offset += keyLength;
    headers.push({ key: headerKey, value: nullableBytes(r, 'header value') });
  }
  const record: DecodedRecord = {
    offset: batch.baseOffset + BigInt(offsetDelta),
    timestamp: batch.attributes.timestampType === 'LogAppendTime' ? batch.maxTimestamp : batch.baseTimestamp + timestampDelta,
    key,
    value,
    headers,
  };
  if (batch.attributes.control) record.control = readControl(key, value);
  return record;
}

/** varint length, -1 for null. */
function nullableBytes(r: Reader, what: string): Buffer | null {
  const at = r.offset;
  const length = r.varint();
  if (length === -1) return null;
  if (length < 0) throw new ProtocolError(`${what} length ${length} at offset ${at}`, { offset: at });
  return r.raw(length, what);
}

const ABORT = 0;
const COMMIT = 1;

/**
 * Control key: version int16, type int16. End-transaction marker value (types 0 and 1):
 * version int16, coordinatorEpoch int32. Later versions may append fields, so extra
 * bytes are allowed.
 */
function readControl(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < 4) {
    throw new ProtocolError(`control record key has ${key === null ? 'no' : key.length} bytes, needs 4 (version, type)`);
  }
  const typeId = key.readInt16BE(2);
  if (typeId !== ABORT && typeId !== COMMIT) return { type: 'unknown', typeId, coordinatorEpoch: -1 };
  if (value === null || value.length < 6) {
    throw new ProtocolError(
      `end-transaction marker value has ${value === null ? 'no' : value.length} bytes, needs 6 (version, coordinatorEpoch)`,
    );
  }
  return { type: typeId === COMMIT ? 'commit' : 'abort', typeId, coordinatorEpoch: value.readInt32BE(2) };
}

function where(frame: BatchFrame): string {
  const compressed = frame.codecId === 0 ? '' : `, ${frame.batch.attributes.compression}`;
  return `record batch at byte ${frame.start} (baseOffset ${frame.batch.baseOffset}${compressed})`;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}
