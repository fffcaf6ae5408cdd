/**
 * RecordBatch v2 (magic 2) layout: where each header field sits, and the attribute bits.
 * Offsets are named as in Kafka's DefaultRecordBatch so the two can be read side by side.
 *
 *   0  baseOffset            int64
 *   8  batchLength           int32   bytes after this field (total size - 12)
 *  12  partitionLeaderEpoch  int32
 *  16  magic                 int8    2
 *  17  crc                   uint32  CRC-32C of bytes 21..end
 *  21  attributes            int16
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64
 *  35  maxTimestamp          int64
 *  43  producerId            int64
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records
 */

export const BASE_OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** baseOffset + batchLength: the framing every message format shares (v0, v1 and v2). */
export const LOG_OVERHEAD = 12;
/** A batch header; also the size of a batch with no records. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** The CRC covers everything from the attributes on, so partitionLeaderEpoch (set by the broker) is outside it. */
export const CRC_START = ATTRIBUTES_OFFSET;

export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;

/** Whether a whole record batch's attributes name a compression codec. */
export function isCompressedBatch(batch: Buffer): boolean {
  return (batch.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) !== 0;
}
/** Set: LogAppendTime (the broker's clock); clear: CreateTime (the producer's). */
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

/** The sentinels a producer without idempotence or transactions sends. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/**
 * The smallest record: seven one-byte fields (length, attributes, timestampDelta,
 * offsetDelta, keyLength, valueLength, headerCount). A recordCount that the bytes left
 * cannot hold at this size is a lie, found before any array is built.
 */
export const MIN_RECORD_SIZE = 7;
/** A header with an empty key and a null value: two one-byte varints. */
export const MIN_HEADER_SIZE = 2;
