/**
 * The 61-byte RecordBatch v2 header: written once the records are in (it counts and
 * checksums them), and rewritable afterwards, because a producer that bumps its epoch
 * re-sends the same records under a new producer id, epoch and sequence.
 */
import { ProtocolError } from '../../errors.js';
import { Writer } from '../writer.js';
import { crc32c } from './crc32c.js';
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  CRC_START,
  CURRENT_MAGIC,
  LENGTH_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
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

/** Writes the header into `batch` (exactly the batch's bytes, records already in place), CRC included. */
/** Writes the header of a batch whose records are in place; with `crc` false the CRC stays zero (see FinishOptions.crc). */
export function writeBatchHeader(batch: Buffer, h: BatchHeader, crc = true): void {
  const w = new Writer(batch, 0);
  w.int64Number(h.baseOffset);
  w.int32(batch.length - LOG_OVERHEAD); // batchLength
  w.int32(h.partitionLeaderEpoch);
  w.int8(CURRENT_MAGIC);
  w.uint32(0); // crc, computed below over what follows it
  w.int16(h.attributes);
  w.int32(h.lastOffsetDelta);
  w.int64Number(h.baseTimestamp);
  w.int64Number(h.maxTimestamp);
  writeInt64(w, h.producerId);
  w.int16(h.producerEpoch);
  w.int32(h.baseSequence);
  w.int32(h.recordCount);
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
  const w = new Writer(batch, PRODUCER_ID_OFFSET);
  writeInt64(w, stamp.producerId);
  w.int16(stamp.producerEpoch);
  w.int32(stamp.baseSequence);
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

function writeInt64(w: Writer, v: number | bigint): void {
  if (typeof v === 'bigint') w.int64(v);
  else w.int64Number(v);
}
