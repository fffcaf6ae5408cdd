/**
 * The producer's public shapes: options, records in, delivery reports out, metrics.
 */
import type { SaslConfig, SaslOptions, TlsOptions } from '../net/security.js';
import type { CompressionName } from '../protocol/compression/codecs.js';
import type { Partitioner } from './partitioners/index.js';

export type Bytes = Buffer | Uint8Array | string;

/** See ProducerOptions.bufferFullPolicy. */
export type BufferFullPolicy = 'wait' | 'fail' | 'drop-oldest';

export interface RecordHeaderInput {
  key: string;
  value: Bytes | null;
}

export interface ProducerRecord {
  topic: string;
  key?: Bytes | null;
  value: Bytes | null;
  /** An array keeps order and allows repeated keys; an object is the short form. */
  headers?: ReadonlyArray<RecordHeaderInput> | Readonly<Record<string, Bytes | null>>;
  /** Chosen by the partitioner when absent. */
  partition?: number;
  /**
   * Milliseconds since the epoch. When absent, the time of send(): the clock is read once
   * for up to 8 records sent in one synchronous stretch (see src/producer/record-time.ts).
   */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /**
   * -1n with acks=0, where the broker says nothing, and for a record whose own answer was
   * lost but which a later answer proved written (see docs/delivery-semantics.md).
   */
  offset: bigint;
  /** The record's CreateTime, or the broker's LogAppendTime for topics that use it. */
  timestamp: number;
  /** The partition's first offset when the broker answered (Produce v5+); -1n when not known. */
  logStartOffset: bigint;
}

/** What a broker answered for one batch (the fields of a Produce partition response). */
export interface BatchAnswer {
  readonly baseOffset: bigint;
  readonly logAppendTimeMs: bigint;
  readonly logStartOffset: bigint;
}

export interface SendOptions {
  /** Cancels the record while it waits for memory or metadata, or sits in an unsent batch. */
  signal?: AbortSignal;
}

/**
 * Called exactly once per record. If it throws, the other records it was answered with
 * still end, and what it threw is raised afterwards on a turn of its own (an uncaught
 * exception, as Node raises what its own callbacks throw).
 */
export type DeliveryCallback = (error: Error | null, metadata: RecordMetadata | null) => void;

/**
 * A delivery callback's arguments as the two cases they are: an error and no metadata, or
 * metadata and no error. `produce()` takes a callback typed with them first, so TypeScript
 * knows `metadata` is there once `error` is checked (`if (err) return; meta.offset`).
 */
export type DeliveryOutcome = [error: Error, metadata: null] | [error: null, metadata: RecordMetadata];

export interface ProducerOptions {
  /** `host:port[,host:port...]` or a list of them. */
  bootstrap: string | readonly string[];
  /** Names the producer in every request, and so in the broker's logs, quotas and metrics. Default 'kafka-wire'. */
  clientId?: string;
  /** Default -1 ('all'): every in-sync replica has the record. 0 gets no response at all. */
  acks?: 0 | 1 | -1 | 'all';
  /**
   * Codec of every batch: 'none' (default), 'gzip', 'snappy', 'lz4' or 'zstd'. snappy, lz4
   * and zstd need their optional packages (MissingCodecError names the one missing).
   */
  compression?: CompressionName;
  /**
   * How long a batch waits for more records before it is sent. Default 5 ms (Java 4.0+).
   * As in Java, a request going to a broker anyway takes along the batches of that
   * broker's partitions that are still lingering.
   */
  lingerMs?: number;
  /**
   * Bytes per partition batch: one that reaches it is sent without lingering, unless it
   * may grow past it (see maxBatchSize). Default 16384. A batch starts in a smaller buffer
   * (1 KiB, then 4 KiB) and grows to this as records come, so a partition with a record or
   * two does not hold batchSize of bufferMemory.
   */
  batchSize?: number;
  /**
   * How big a batch may grow under load: while records come faster than they leave (the
   * producer holds more than maxRequestSize, or its event loop has been more than half
   * busy over the last few milliseconds), a partition with batches queued or in flight
   * gets one that may grow past batchSize. Such a batch goes when it is full, at
   * lingerMs, with the next request to its broker, or as soon as records no longer come
   * faster than they leave: a request then carries more records for its cost. Otherwise batches stop at batchSize and each goes as soon as
   * it is full, as Java's do. Default 1 MiB less 1 KiB (what a request of the default
   * maxRequestSize holds), at least batchSize and at most maxRequestSize - 1024 (a
   * ConfigError otherwise); set it to batchSize for Java's fixed batches under load too.
   */
  maxBatchSize?: number;
  /** Upper bound on one Produce request. Default 1 MiB. */
  maxRequestSize?: number;
  /** Bytes of records the producer may hold before send() waits. Default 32 MiB. */
  bufferMemory?: number;
  /**
   * How long send() may wait for memory or metadata, its time in line behind earlier sends
   * to the topic included (a sendBatch() record's counts from its turn in line: the call
   * goes through at the producer's pace); 0 fails at once when memory is full. Default 60 s.
   */
  maxBlockMs?: number;
  /**
   * What send() does when the memory budget is full: `'wait'` (up to maxBlockMs, the
   * default), `'fail'` (BufferFullError at once), or `'drop-oldest'` (for telemetry: the
   * oldest records not yet in a request fail with RecordDroppedError to make room; not
   * with a transactionalId).
   */
  bufferFullPolicy?: BufferFullPolicy;
  /**
   * Bytes the copies of waiting sends may hold (records not yet in a batch: waiting for
   * their topic's metadata or for memory). Past it send() fails at once with
   * BufferFullError. Default 4 × bufferMemory.
   */
  waitingMemory?: number;
  /** Upper bound from send() to the record's success or failure, retries included. Default 120 s. */
  deliveryTimeoutMs?: number;
  /** How long a request waits for its response before the connection is closed and it is retried. Default 30 s. */
  requestTimeoutMs?: number;
  /** First wait before a retry or a reconnect; each next one doubles (with jitter) up to retryBackoffMaxMs. Default 100 ms. */
  retryBackoffMs?: number;
  /** Longest wait between retries or reconnects. Default 1 s. */
  retryBackoffMaxMs?: number;
  /**
   * Produce requests in flight per broker connection. Default 5. A request goes beside one
   * already in flight only when it carries a full batch (or a retry, or a flush waits):
   * batches that have only lingered keep taking records until the answer comes (or go
   * along with the next request to that broker), so many partitions make a few big
   * requests rather than many of a few records per batch.
   */
  maxInFlight?: number;
  /** Refresh metadata at least this often. Default 5 minutes. */
  metadataMaxAgeMs?: number;
  /** How long opening a connection (TCP, then TLS when set) may take. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Chooses a record's partition: `(ctx) => partition`. Default: a keyed record by the
   * murmur2 of its key (the Java client's partition for the same key), a keyless one
   * sticky per batch (KIP-794).
   */
  partitioner?: Partitioner;
  /**
   * Keyless records favour partitions with shorter queues when the sticky partition moves
   * on, so a slow broker gets less of them (KIP-794; Java's
   * `partitioner.adaptive.partitioning.enable`). Default true.
   */
  adaptivePartitioning?: boolean;
  /** Let the broker create a topic on first use, if it is configured to (Java's default, true). */
  allowAutoTopicCreation?: boolean;
  /**
   * Exactly-once delivery per partition within a session: a producer id and sequence
   * numbers let the broker drop duplicate retries and refuse gaps. On by default when
   * acks is 'all' and maxInFlight <= 5 (as in Java).
   */
  idempotent?: boolean;
  /** Makes the producer transactional (and idempotent); unique per producer instance you run at once. */
  transactionalId?: string;
  /** The coordinator aborts a transaction open longer than this. Default 60 s. */
  transactionTimeoutMs?: number;
  /**
   * Where to connect for a broker's advertised host and port, e.g. through an SSH tunnel,
   * a port-forward or a test proxy. The broker keeps its identity; only the dialling moves.
   */
  mapBrokerAddress?: (host: string, port: number) => { host: string; port: number };
  /**
   * TLS to every broker: node:tls options (`ca`, `cert` + `key` for mutual TLS,
   * `servername`, ...), or `true` for the system's CAs. The broker's certificate is always
   * verified unless `rejectUnauthorized: false`, which warns once.
   */
  tls?: TlsOptions;
  /**
   * SASL after ApiVersions (KIP-152): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER.
   * `SaslConfig.from({...})` gives the same settings in an object that never shows its secret.
   */
  sasl?: SaslOptions | SaslConfig;
}

export interface BrokerMetrics {
  nodeId: number;
  address: string;
  requestsInFlight: number;
  /** Total milliseconds this broker asked us to hold off (KIP-219). */
  throttleTimeMs: number;
  /** Until when (epoch ms) it is muted; 0 when not. */
  throttledUntil: number;
}

/** What the producer counts as records end and requests go out. */
export interface ProducerCounters {
  /** Records delivered. */
  recordsSent: number;
  /**
   * Records that ended in an error, the aborted and dropped ones included. A record refused
   * by send() itself (invalid, too big, its signal aborted already) was never taken in and
   * is not counted.
   */
  recordsFailed: number;
  /** Of recordsFailed: cancelled by their AbortSignal. */
  recordsAborted: number;
  /** Of recordsFailed: dropped to make room (bufferFullPolicy 'drop-oldest'). */
  recordsDropped: number;
  bytesSent: number;
  requestsSent: number;
  retries: number;
  requestsInFlight: number;
}

export interface ProducerMetrics extends ProducerCounters {
  /** Bytes of records held now, against `bufferMemory`. */
  bufferedBytes: number;
  bufferMemory: number;
  /**
   * Sends waiting for their topic's metadata or for memory (sendBatch() records not taken
   * in yet among them), and the bytes their copies hold (sendBatch() records wait uncopied).
   */
  waitingSends: number;
  waitingBytes: number;
  /** send() calls that had to wait for memory. */
  waitsForMemory: number;
  poolHits: number;
  poolMisses: number;
  brokers: BrokerMetrics[];
}
