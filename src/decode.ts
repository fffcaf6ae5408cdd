/**
 * `kafka-wire/decode`: for people debugging what is on the wire or in a partition.
 * `decode` annotates a record batch, a request or a response byte by byte (what
 * `npx kafka-wire decode` prints); `formatNodes`/`toJson` render its result;
 * `readPartition`/`endOffset` read a partition back through Fetch (a reader for checks,
 * not a consumer), over a `BrokerConnection` from `kafka-wire/wire`.
 */
export { decode, type Decoded, type DecodeKind, type DecodeOptions } from './decode/index.js';
export { formatNodes, toJson } from './decode/format.js';
export type { TraceNode } from './protocol/codec.js';
export { endOffset, readPartition, type IsolationLevel, type PartitionContents, type ReadPartitionOptions } from './reader/partition-reader.js';
export type { ControlRecord, DecodedHeader, DecodedRecord, RecordBatch, RecordBatchAttributes } from './protocol/records/index.js';
