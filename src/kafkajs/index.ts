/// <reference types="node" preserve="true" />
// Kept in the published declarations, which use Node's types (Buffer, AbortSignal's
// listeners): a project on TypeScript 6 or later loads @types/node only when told to.
/**
 * `kafka-wire/kafkajs`: a drop-in for KafkaJS 2.2.4's producer. Switch with one import line:
 *
 *   import { Kafka, Partitioners, CompressionTypes } from 'kafka-wire/kafkajs';
 *
 * What maps to what, and what is refused: docs/migrating-from-kafkajs.md.
 */
export { Kafka } from './kafka.js';
export { Partitioners, type DefaultPartitioner, type ICustomPartitioner, type PartitionerArgs, type PartitionMetadata } from './partitioners.js';
export { logLevel, type LogCreator, type LogEntry, type Logger, type LogLevel } from './logger.js';
export { CompressionTypes } from './types.js';
export type {
  BrokersFunction,
  IHeaders,
  InstrumentationEvent,
  KafkaConfig,
  Message,
  Offsets,
  PartitionOffset,
  Producer,
  ProducerBatch,
  ProducerConfig,
  ProducerEvents,
  ProducerRecord,
  RecordMetadata,
  RemoveInstrumentationEventListener,
  RequestEvent,
  RequestQueueSizeEvent,
  RequestTimeoutEvent,
  RetryOptions,
  SASLOptions,
  Sender,
  TopicMessages,
  TopicOffsets,
  Transaction,
} from './types.js';
export {
  isKafkaJSError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionClosedError,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSMetadataNotLoaded,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSPartialMessageError,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSServerDoesNotSupportApiKey,
  KafkaJSTimeout,
  KafkaJSTopicMetadataNotLoaded,
} from './errors.js';
