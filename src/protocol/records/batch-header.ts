/**
 * The 61-byte RecordBatch v2 header: written once the records are in (it counts and
 * checksums them), and rewritable afterwards, because a producer that bumps its epoch
 * re-sends the same records under a new producer id, epoch and sequence.
 */
import { ProtocolError } from '../../errors.js';
import { crc32c } from './crc32c.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from './layout.js';

/** What identifies the producer of a batch; an idempotent or transactional producer sets all three. */
export interface ProducerStamp {
  /** int64; the Produce/InitProducerId codec hands it over as a bigint. */
  producerId: number | bigint;
  producerEpoch: number;
  baseSequence: number;
  /** Part of a transaction; left as it is by `restamp` when absent. */
  transactional?: boolean;
  /** Brokers overwrite it; producers send -1. Left as it is by `restamp` when absent. */
  partitionLeaderEpoch?: number;
}

export interface BatchHeader {
  baseOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number | bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/**
 * Writes the header of a batch whose records are in place; with `crc` false the CRC stays
 * zero (see FinishOptions.crc). Field by field at its offset in layout.ts: through a
 * Writer (growth and range checks per field, a bigint split per batch) this cost more than
 * the CRC, and as much as the rest of finishing a batch of a few records.
 */
export function writeBatchHeader(batch: Buffer, h: BatchHeader, crc = true): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolError(`${batch.length} bytes cannot hold a ${RECORD_BATCH_OVERHEAD}-byte record batch header`);
  }
  int64At(batch, BASE_OFFSET_OFFSET, h.baseOffset);
  int32At(batch, LENGTH_OFFSET, batch.length - LOG_OVERHEAD);
  int32At(batch, PARTITION_LEADER_EPOCH_OFFSET, h.partitionLeaderEpoch);
  batch[MAGIC_OFFSET] = CURRENT_MAGIC;
  int32At(batch, CRC_OFFSET, 0); // computed below, over what follows it
  int16At(batch, ATTRIBUTES_OFFSET, h.attributes);
  int32At(batch, LAST_OFFSET_DELTA_OFFSET, h.lastOffsetDelta);
  int64At(batch, BASE_TIMESTAMP_OFFSET, h.baseTimestamp);
  int64At(batch, MAX_TIMESTAMP_OFFSET, h.maxTimestamp);
  producerIdAt(batch, h.producerId);
  int16At(batch, PRODUCER_EPOCH_OFFSET, h.producerEpoch);
  int32At(batch, BASE_SEQUENCE_OFFSET, h.baseSequence);
  int32At(batch, RECORDS_COUNT_OFFSET, h.recordCount);
  if (crc) stampCrc(batch);
}

/**
 * Rewrites the producer id, epoch and base sequence (and, when given, the transactional
 * flag and partition leader epoch) of a finished batch in place, then its CRC.
 * Works on compressed batches too: none of these fields is inside the compressed block.
 */
export function restamp(batch: Buffer, stamp: ProducerStamp): void {
  checkWholeBatch(batch, 'restamp');
  if (stamp.partitionLeaderEpoch !== undefined) batch.writeInt32BE(stamp.partitionLeaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  if (stamp.transactional !== undefined) {
    const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
    batch.writeInt16BE(
      stamp.transactional ? attributes | TRANSACTIONAL_FLAG_MASK : attributes & ~TRANSACTIONAL_FLAG_MASK,
      ATTRIBUTES_OFFSET,
    );
  }
  producerIdAt(batch, stamp.producerId);
  int16At(batch, PRODUCER_EPOCH_OFFSET, stamp.producerEpoch);
  int32At(batch, BASE_SEQUENCE_OFFSET, stamp.baseSequence);
  stampCrc(batch);
}

/** The stamp of a producer with neither idempotence nor transactions. */
export const NO_PRODUCER: Readonly<Required<ProducerStamp>> = Object.freeze({
  producerId: NO_PRODUCER_ID,
  producerEpoch: NO_PRODUCER_EPOCH,
  baseSequence: NO_SEQUENCE,
  transactional: false,
  partitionLeaderEpoch: NO_PARTITION_LEADER_EPOCH,
});

export function stampCrc(batch: Buffer): void {
  batch.writeUInt32BE(crc32c(batch, CRC_START), CRC_OFFSET);
}

/** Refuses bytes that are not exactly one v2 batch before anything rewrites them. */
export function checkWholeBatch(batch: Buffer, what: string): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) {
    throw new ProtocolError(`${what}: ${batch.length} bytes cannot hold a ${RECORD_BATCH_OVERHEAD}-byte record batch header`);
  }
  const magic = batch.readInt8(MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) throw new ProtocolError(`${what}: record batch has magic ${magic}, not ${CURRENT_MAGIC}`);
  const batchLength = batch.readInt32BE(LENGTH_OFFSET);
  if (batchLength !== batch.length - LOG_OVERHEAD) {
    throw new ProtocolError(
      `${what}: batchLength ${batchLength} does not match the ${batch.length} bytes given (expected ${batch.length - LOG_OVERHEAD})`,
    );
  }
}

// Big-endian writes by byte: a Uint8Array store keeps the low 8 bits, which is what two's
// complement asks of a negative value too. The offsets are the header's, always in range.

function int16At(buf: Buffer, offset: number, v: number): void {
  buf[offset] = v >>> 8;
  buf[offset + 1] = v;
}

function int32At(buf: Buffer, offset: number, v: number): void {
  buf[offset] = v >>> 24;
  buf[offset + 1] = v >>> 16;
  buf[offset + 2] = v >>> 8;
  buf[offset + 3] = v;
}

/** An int64 from a number: exact for safe integers (offsets, timestamps, -1 sentinels). */
function int64At(buf: Buffer, offset: number, v: number): void {
  const high = Math.floor(v / 0x1_0000_0000);
  int32At(buf, offset, high);
  int32At(buf, offset + 4, v - high * 0x1_0000_0000);
}

/** The last bigint producer id split into its two int32 halves: a producer stamps every batch with the same one. */
let splitId: bigint | undefined;
let splitHigh = 0;
let splitLow = 0;

function producerIdAt(buf: Buffer, id: number | bigint): void {
  if (typeof id === 'number') return int64At(buf, PRODUCER_ID_OFFSET, id);
  if (id !== splitId) {
    if (BigInt.asIntN(64, id) !== id) throw new RangeError(`producer id ${id} is not an int64`);
    splitHigh = Number(BigInt.asIntN(32, id >> 32n));
    splitLow = Number(BigInt.asUintN(32, id));
    splitId = id;
  }
  int32At(buf, PRODUCER_ID_OFFSET, splitHigh);
  int32At(buf, PRODUCER_ID_OFFSET + 4, splitLow);
}
