export {
  AuthenticationError,
  BrokerError,
  ConfigError,
  ConnectionError,
  KafkaWireError,
  ProtocolError,
  RequestTimeoutError,
  UnsupportedVersionError,
  type AuthenticationFailure,
  type ErrorContext,
} from './errors.js';
export { BrokerConnection, type BrokerConnectionOptions, type BrokerFeatures } from './net/broker-connection.js';
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
export type { AuthenticateEvent } from './net/sasl/index.js';
export { Connection, CONNECTION_DEFAULTS, type ConnectionOptions, type RequestOptions } from './net/connection.js';
export { parseBootstrap, type BrokerAddress } from './net/bootstrap.js';
export {
  AbortedError,
  BufferFullError,
  DeliveryTimeoutError,
  InvalidRecordError,
  InvalidTopicError,
  ProducerClosedError,
  ProducerFencedError,
  RecordDroppedError,
  RecordTooLargeError,
  TopicAuthorizationError,
  TopicError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionStateError,
  UnknownTopicError,
} from './errors.js';
export type { OffsetToCommit, TransactionState } from './producer/transactions.js';
export { TransactionalProducerPool, type TransactionalPoolOptions } from './producer/transactional-pool.js';
export { Producer, type CloseOptions } from './producer/producer.js';
export type { PartitionerContext, Partitioner } from './producer/partitioners/index.js';
export type {
  BrokerMetrics,
  BufferFullPolicy,
  Bytes,
  DeliveryCallback,
  ProducerCounters,
  ProducerMetrics,
  ProducerOptions,
  ProducerRecord,
  RecordMetadata,
  SendOptions,
} from './producer/types.js';
export { decode, type Decoded, type DecodeKind, type DecodeOptions } from './decode/index.js';
export { formatNodes, toJson } from './decode/format.js';
export { endOffset, readPartition, type IsolationLevel, type PartitionContents, type ReadPartitionOptions } from './reader/partition-reader.js';
