/// <reference types="node" preserve="true" />
// Kept in the published declarations, which use Node's types (Buffer, AbortSignal's
// listeners): a project on TypeScript 6 or later loads @types/node only when told to.
/**
 * The protocol layer on its own: pure functions from values to bytes and back, with no
 * sockets or timers. `import { ... } from 'kafka-wire/protocol'`.
 *
 * Every API Kafka defines is there too (`apiDefinition(key)`, `ALL_APIS`: generated from
 * Kafka 4.3.1's message definitions); the producer's own are exported by name.
 * Enough to define an API (`defineApi` with `field`, `arrayOf`, `struct`), frame its
 * requests and responses, and build or read RecordBatch v2 (`RecordBatchBuilder`,
 * `encodeRecordBatch`, `decodeRecordBatches`), compressed or not.
 */

// Defining an API and encoding its bodies.
export { decodeBody, defineApi, encodeBody, type AnyApi, type ApiDefinition, type RequestOf, type ResponseOf } from './api.js';
export {
  arrayOf,
  field,
  parseVersions,
  struct,
  type FieldOptions,
  type FieldSpec,
  type FieldType,
  type Input,
  type Output,
  type PrimitiveType,
  type VersionRange,
} from './schema.js';
export type { Codec, TraceNode } from './codec.js';

// The APIs kafka-wire speaks, and request/response framing.
export * from './apis/index.js';
// Every API Kafka 4.3.1 defines, at every version, generated from its message definitions.
export { ALL_APIS, REGISTRY_KAFKA_VERSION, apiDefinition, apiDefinitionAt, apiDefinitionByName } from './registry.js';
export { API_NAMES, apiName } from './api-keys.js';
export { ERROR_TABLE, ErrorCode, errorCode, errorCodeInfo, type ErrorCodeInfo, type ErrorCodeName } from './error-codes.js';
export { correlationIdOf, decodeResponse, encodeRequest, requestHeaderVersion, responseHeaderVersion } from './frame.js';

// Primitive types.
export { Reader } from './reader.js';
export { Writer } from './writer.js';
export * from './sizes.js';
export { uuidFromBytes, uuidToBytes, ZERO_UUID } from './uuid.js';

// Record batches (RecordBatch v2).
export {
  encodeRecordBatch,
  RecordBatchBuilder,
  sizeOfRecordBatch,
  type EncodeRecordBatchOptions,
  type FinishOptions,
  type RecordBatchBuilderOptions,
} from './records/builder.js';
export {
  decodeRecordBatches,
  decodeRecordBatchesSync,
  type ControlRecord,
  type DecodedHeader,
  type DecodedRecord,
  type DecodedRecordBatches,
  type DecodeOptions as DecodeRecordBatchesOptions,
  type RecordBatch,
  type RecordBatchAttributes,
} from './records/decode.js';
export { NO_PRODUCER, type ProducerStamp } from './records/batch-header.js';
export { compressBatch, type CompressFunction, type DecompressFunction } from './records/compress-batch.js';
export { crc32c } from './records/crc32c.js';
export { RECORD_BATCH_OVERHEAD } from './records/layout.js';
export { sizeOfRecord, type RecordBytes, type RecordHeaderInput, type RecordHeadersInput, type RecordInput } from './records/record.js';

// Compression codecs (snappy, lz4 and zstd load optional packages on first use).
export {
  CODEC_ID,
  CODEC_NAME,
  compress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompress,
  DecompressionLimitError,
  isCodecAvailable,
  MissingCodecError,
  UnsupportedCodecError,
  type CompressionName,
  type DecompressOptions,
} from './compression/index.js';
