/**
 * The drop-in's public shapes, modelled on KafkaJS 2.2.4's `types/index.d.ts` (producer
 * side only), so that code typed against KafkaJS type-checks against the drop-in.
 */
import type * as tls from 'node:tls';
import type { LogCreator, Logger, LogLevel } from './logger.js';
import type { ICustomPartitioner } from './partitioners.js';

export type BrokersFunction = () => string[] | Promise<string[]>;

export interface OauthbearerProviderResponse {
  value: string;
}

export type SASLOptions =
  | { mechanism: 'plain'; username: string; password: string }
  | { mechanism: 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<OauthbearerProviderResponse> };

export interface RetryOptions {
  maxRetryTime?: number;
  initialRetryTime?: number;
  factor?: number;
  multiplier?: number;
  retries?: number;
  /** Consumer only in KafkaJS: refused here. */
  restartOnFailure?: (e: Error) => Promise<boolean>;
}

export interface KafkaConfig {
  brokers: string[] | BrokersFunction;
  ssl?: tls.ConnectionOptions | boolean;
  sasl?: SASLOptions;
  clientId?: string;
  connectionTimeout?: number;
  authenticationTimeout?: number;
  reauthenticationThreshold?: number;
  requestTimeout?: number;
  enforceRequestTimeout?: boolean;
  retry?: RetryOptions;
  socketFactory?: unknown;
  logLevel?: LogLevel;
  logCreator?: LogCreator;
}

export interface ProducerConfig {
  createPartitioner?: ICustomPartitioner;
  retry?: RetryOptions;
  metadataMaxAge?: number;
  allowAutoTopicCreation?: boolean;
  idempotent?: boolean;
  transactionalId?: string;
  transactionTimeout?: number;
  maxInFlightRequests?: number;
}

export interface IHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined;
}

export interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: IHeaders;
  /** Milliseconds since the epoch, as a string (KafkaJS's convention). */
  timestamp?: string;
}

export enum CompressionTypes {
  None = 0,
  GZIP = 1,
  Snappy = 2,
  LZ4 = 3,
  ZSTD = 4,
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export interface ProducerBatch {
  acks?: number;
  timeout?: number;
  compression?: CompressionTypes;
  topicMessages?: TopicMessages[];
}

export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface TopicOffsets {
  topic: string;
  partitions: PartitionOffset[];
}

export interface Offsets {
  topics: TopicOffsets[];
}

export type Sender = {
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>;
};

export type Transaction = Sender & {
  sendOffsets(offsets: Offsets & { consumerGroupId: string }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
};

export type ProducerEvents = {
  CONNECT: 'producer.connect';
  DISCONNECT: 'producer.disconnect';
  REQUEST: 'producer.network.request';
  REQUEST_TIMEOUT: 'producer.network.request_timeout';
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size';
};

export type ValueOf<T> = T[keyof T];

export interface InstrumentationEvent<T> {
  /** Typed as KafkaJS's own types have it; at run time a number, as KafkaJS gives (a counter from 0). */
  id: string;
  type: string;
  timestamp: number;
  payload: T;
}

export type RemoveInstrumentationEventListener = () => void;

/** What REQUEST and REQUEST_TIMEOUT events both tell of a request. */
interface RequestEventPayload {
  apiKey: number;
  apiName: string;
  apiVersion: number;
  broker: string;
  clientId: string;
  /** kafka-wire's request id (unique in the process), not the wire correlation id. */
  correlationId: number;
  createdAt: number;
  pendingDuration: number;
  sentAt: number;
}

export type RequestEvent = InstrumentationEvent<RequestEventPayload & { duration: number; size: number }>;

export type RequestTimeoutEvent = InstrumentationEvent<RequestEventPayload>;

export type RequestQueueSizeEvent = InstrumentationEvent<{
  broker: string;
  clientId: string;
  queueSize: number;
}>;

export type Producer = Sender & {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isIdempotent(): boolean;
  readonly events: ProducerEvents;
  on(eventName: ProducerEvents['CONNECT'] | ProducerEvents['DISCONNECT'], listener: (event: InstrumentationEvent<null>) => void): RemoveInstrumentationEventListener;
  on(eventName: ProducerEvents['REQUEST'], listener: (event: RequestEvent) => void): RemoveInstrumentationEventListener;
  on(eventName: ProducerEvents['REQUEST_TIMEOUT'], listener: (event: RequestTimeoutEvent) => void): RemoveInstrumentationEventListener;
  on(eventName: ProducerEvents['REQUEST_QUEUE_SIZE'], listener: (event: RequestQueueSizeEvent) => void): RemoveInstrumentationEventListener;
  on(eventName: ValueOf<ProducerEvents>, listener: (event: InstrumentationEvent<any>) => void): RemoveInstrumentationEventListener;
  transaction(): Promise<Transaction>;
  logger(): Logger;
};
