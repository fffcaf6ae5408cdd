/// <reference types="node" preserve="true" />
// Kept in the published declarations, which use Node's types (Buffer, AbortSignal's
// listeners): a project on TypeScript 6 or later loads @types/node only when told to.
/**
 * `kafka-wire`: the producer. Everything a producer's user meets: the Producer and the
 * transactional pool, their options, records, results and metrics, and every error a
 * send, a transaction or a connection can end with.
 *
 * Other audiences have their own entries:
 * - `kafka-wire/wire`: broker connections, SASL/TLS settings, request/response framing;
 * - `kafka-wire/decode`: the byte-by-byte annotator and the partition reader;
 * - `kafka-wire/protocol`: the pure protocol layer (API definitions, codecs, record batches).
 */

// The producer.
export { Producer, type CloseOptions } from './producer/producer.js';
export { TransactionalProducerPool, type PoolCloseOptions, type TransactionalPoolOptions } from './producer/transactional-pool.js';
export type {
  BrokerMetrics,
  BufferFullPolicy,
  Bytes,
  DeliveryCallback,
  DeliveryOutcome,
  ProducerCounters,
  ProducerMetrics,
  ProducerOptions,
  ProducerRecord,
  RecordHeaderInput,
  RecordMetadata,
  SendOptions,
} from './producer/types.js';
export type { PartitionerContext, Partitioner } from './producer/partitioners/index.js';
// For a custom partitioner that falls back to the default for keyed records.
export { keyedPartition } from './producer/partitioners/murmur2.js';
export type { OffsetToCommit, TransactionState } from './producer/transactions.js';
export type { CompressionName } from './protocol/compression/codecs.js';

// What the diagnostics channels publish (see README, Tracing).
export type {
  ProduceBatchMessage,
  ProduceRequestMessage,
  ProduceResponseMessage,
  ProduceTraceContext,
  SendTraceContext,
} from './producer/tracing.js';

// What the `tls` and `sasl` options take (also in kafka-wire/wire).
export { SaslConfig } from './net/security.js';
export type {
  OAuthBearerSaslOptions,
  OAuthBearerToken,
  OAuthBearerTokenProvider,
  PlainSaslOptions,
  SaslMechanism,
  SaslOptions,
  ScramSaslOptions,
  TlsOptions,
} from './net/security.js';
/** What `kafka-wire:sasl:authenticate` publishes. */
export type { AuthenticateEvent } from './net/sasl/index.js';
export type { ConnectEvent } from './net/connection.js';

// Every error a producer's user can meet.
export {
  AbortedError,
  AuthenticationError,
  BrokerError,
  BufferFullError,
  ConfigError,
  ConnectionError,
  DeliveryTimeoutError,
  InvalidRecordError,
  InvalidTopicError,
  KafkaWireError,
  ProducerClosedError,
  ProducerFencedError,
  ProtocolError,
  RecordDroppedError,
  RecordTooLargeError,
  RequestTimeoutError,
  TopicAuthorizationError,
  TopicError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionStateError,
  UnknownTopicError,
  UnsupportedVersionError,
  type AuthenticationFailure,
  type ErrorContext,
} from './errors.js';
export { DecompressionLimitError, MissingCodecError, UnsupportedCodecError } from './protocol/compression/errors.js';
/** Kafka's error codes by name, for comparing with `BrokerError.errorCode`. */
export { ErrorCode, type ErrorCodeName } from './protocol/error-codes.js';
