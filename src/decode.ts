/// <reference types="node" preserve="true" />
// Kept in the published declarations, which use Node's types (Buffer, AbortSignal's
// listeners): a project on TypeScript 6 or later loads @types/node only when told to.
/**
 * `kafka-wire/decode`: for people debugging what is on the wire or in a partition.
 * `decode` annotates a record batch, a request or a response byte by byte (what
 * `npx kafka-wire decode` prints), for every API and version Kafka 4.3.1 defines;
 * `formatNodes`/`toJson` render its result; `annotateRequest`/`annotateResponse` give the
 * frame tree alone, and `fullyDecoded`/`unknownTaggedFields` say whether all of it was
 * understood;
 * `readPartition`/`endOffset` read a partition back through Fetch (a reader for checks,
 * not a consumer), over a `BrokerConnection` from `kafka-wire/wire`.
 */
export { decode, type Decoded, type DecodeKind, type DecodeOptions } from './decode/index.js';
export { formatNodes, toJson } from './decode/format.js';
export { annotateRequest, annotateResponse, fullyDecoded, type AnnotatedFrame } from './decode/annotate-frame.js';
export { unknownTaggedFields, type TraceNode } from './protocol/codec.js';
export { endOffset, readPartition, type IsolationLevel, type PartitionContents, type ReadPartitionOptions } from './reader/partition-reader.js';
export type { ControlRecord, DecodedHeader, DecodedRecord, RecordBatch, RecordBatchAttributes } from './protocol/records/index.js';
