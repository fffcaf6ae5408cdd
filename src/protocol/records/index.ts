/**
 * Record batches (RecordBatch v2, magic 2): what Produce carries and Fetch returns.
 */
export { restamp, NO_PRODUCER, type ProducerStamp } from './batch-header.js';
export {
  encodeRecordBatch,
  RecordBatchBuilder,
  sizeOfRecordBatch,
  type EncodeRecordBatchOptions,
  type FinishOptions,
  type RecordBatchBuilderOptions,
} from './builder.js';
export { compressBatch, compressBatchSync, type CompressFunction, type CompressSyncFunction, type DecompressFunction } from './compress-batch.js';
export { crc32c } from './crc32c.js';
export {
  decodeRecordBatches,
  decodeRecordBatchesSync,
  type ControlRecord,
  type DecodedHeader,
  type DecodedRecord,
  type DecodedRecordBatches,
  type DecodeOptions,
  type RecordBatch,
  type RecordBatchAttributes,
} from './decode.js';
export { RECORD_BATCH_OVERHEAD } from './layout.js';
export {
  sizeOfRecord,
  type RecordBytes,
  type RecordHeaderInput,
  type RecordHeadersInput,
  type RecordInput,
} from './record.js';
