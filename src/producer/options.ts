/**
 * Producer options: defaults after the Java producer where they are sound, checked once
 * at construction so that a typo fails at once with a ConfigError naming the option.
 */
import { ConfigError } from '../errors.js';
import { shown } from '../shown.js';
import { parseBootstrap, type BrokerAddress } from '../net/bootstrap.js';
import { resolveSasl, resolveTls, type SaslConfig } from '../net/security.js';
import type * as tls from 'node:tls';
import { CODEC_ID, type CompressionName } from '../protocol/compression/codecs.js';
import type { Partitioner } from './partitioners/index.js';
import type { BufferFullPolicy, ProducerOptions } from './types.js';
import { nearestName } from './nearest-name.js';

export interface ResolvedOptions {
  bootstrap: BrokerAddress[];
  clientId: string;
  acks: 0 | 1 | -1;
  compression: CompressionName;
  codecId: number;
  lingerMs: number;
  batchSize: number;
  maxBatchSize: number;
  maxRequestSize: number;
  bufferMemory: number;
  waitingMemory: number;
  maxBlockMs: number;
  bufferFullPolicy: BufferFullPolicy;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  maxInFlight: number;
  metadataMaxAgeMs: number;
  connectTimeoutMs: number;
  partitioner: Partitioner | undefined;
  adaptivePartitioning: boolean;
  allowAutoTopicCreation: boolean;
  idempotent: boolean;
  transactionalId: string | undefined;
  transactionTimeoutMs: number;
  mapBrokerAddress: ((host: string, port: number) => { host: string; port: number }) | undefined;
  /** A copy that redacts its key material when inspected; undefined for plaintext. */
  tls: tls.ConnectionOptions | undefined;
  /** Secrets kept out of inspect, JSON and messages. */
  sasl: SaslConfig | undefined;
}

/**
 * waitingMemory defaults to this many times bufferMemory: a burst of sends before the
 * first metadata (100,000 of 100 bytes hold ~43 MB while they wait) must fit, and the
 * whole producer still stays within 5 × bufferMemory.
 */
const WAITING_MEMORY_FACTOR = 4;

export const DEFAULTS = {
  clientId: 'kafka-wire',
  acks: -1,
  compression: 'none',
  lingerMs: 5,
  batchSize: 16_384,
  // As much as a default request holds (maxRequestSize less its framing), and under the
  // broker's default message.max.bytes (1,048,588). Under backlog 100-byte records cost
  // ~0.50 µs of CPU each in 1 MiB batches against ~0.60 in 256 KiB ones, 1 KiB lz4
  // records ~1.4 against ~2.0: the per-batch and per-request work is spread over 4x the
  // records (franz-go's batches default to 1,000,012 bytes for the same reason).
  maxBatchSize: 1_048_576 - 1024,
  maxRequestSize: 1_048_576,
  bufferMemory: 32 * 1024 * 1024,
  maxBlockMs: 60_000,
  deliveryTimeoutMs: 120_000,
  requestTimeoutMs: 30_000,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  maxInFlight: 5,
  metadataMaxAgeMs: 300_000,
  connectTimeoutMs: 10_000,
  transactionTimeoutMs: 60_000,
} as const;

const BUFFER_FULL_POLICIES: readonly BufferFullPolicy[] = ['wait', 'fail', 'drop-oldest'];

const KNOWN = new Set<string>(['bootstrap', 'bufferFullPolicy', 'waitingMemory', 'partitioner', 'adaptivePartitioning', 'allowAutoTopicCreation', 'idempotent', 'transactionalId', 'mapBrokerAddress', 'tls', 'sasl', ...Object.keys(DEFAULTS)]);

function integer(opts: ProducerOptions, name: keyof typeof DEFAULTS, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = (opts as unknown as Record<string, unknown>)[name] ?? DEFAULTS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${shown(value)}`);
  }
  return value;
}

export function resolveOptions(opts: ProducerOptions): ResolvedOptions {
  if (typeof opts !== 'object' || opts === null) throw new ConfigError('producer options must be an object');
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) {
      const near = nearestName(key, KNOWN);
      throw new ConfigError(`unknown producer option ${JSON.stringify(key)}${near ? ` (did you mean ${near}?)` : ''}`);
    }
  }
  if (opts.bootstrap === undefined) throw new ConfigError('bootstrap is required (host:port of one or more brokers)');
  const acks = opts.acks === 'all' ? -1 : (opts.acks ?? DEFAULTS.acks);
  if (acks !== 0 && acks !== 1 && acks !== -1) throw new ConfigError(`acks must be 0, 1, -1 or 'all', got ${shown(opts.acks)}`);
  const compression = opts.compression ?? DEFAULTS.compression;
  if (!(compression in CODEC_ID)) {
    throw new ConfigError(`compression must be one of ${Object.keys(CODEC_ID).join(', ')}, got ${shown(compression)}`);
  }
  const clientId = opts.clientId ?? DEFAULTS.clientId;
  if (typeof clientId !== 'string') throw new ConfigError('clientId must be a string');
  if (opts.partitioner !== undefined && typeof opts.partitioner !== 'function') throw new ConfigError('partitioner must be a function');
  if (opts.mapBrokerAddress !== undefined && typeof opts.mapBrokerAddress !== 'function') throw new ConfigError('mapBrokerAddress must be a function');
  if (opts.bufferFullPolicy !== undefined && !BUFFER_FULL_POLICIES.includes(opts.bufferFullPolicy)) {
    throw new ConfigError(`bufferFullPolicy must be one of ${BUFFER_FULL_POLICIES.map((p) => `'${p}'`).join(', ')}, got ${shown(opts.bufferFullPolicy)}`);
  }
  if (opts.bufferFullPolicy === 'drop-oldest' && opts.transactionalId !== undefined) {
    throw new ConfigError("bufferFullPolicy 'drop-oldest' cannot be used with a transactionalId: a dropped record would break the transaction's all-or-nothing promise");
  }
  for (const flag of ['adaptivePartitioning', 'allowAutoTopicCreation'] as const) {
    if (opts[flag] !== undefined && typeof opts[flag] !== 'boolean') throw new ConfigError(`${flag} must be a boolean`);
  }

  const resolved: ResolvedOptions = {
    bootstrap: parseBootstrap(opts.bootstrap),
    clientId,
    acks,
    compression,
    codecId: CODEC_ID[compression],
    lingerMs: integer(opts, 'lingerMs', 0, 3_600_000),
    batchSize: integer(opts, 'batchSize', 1, 0x7fffffff),
    maxBatchSize: integer(opts, 'maxBatchSize', 1, 0x7fffffff),
    maxRequestSize: integer(opts, 'maxRequestSize', 1024, 0x7fffffff),
    bufferMemory: integer(opts, 'bufferMemory', 1024),
    waitingMemory: 0,
    maxBlockMs: integer(opts, 'maxBlockMs', 0),
    // maxBlockMs 0 has always meant "fail at once when memory is full".
    bufferFullPolicy: opts.bufferFullPolicy ?? (opts.maxBlockMs === 0 ? 'fail' : 'wait'),
    deliveryTimeoutMs: integer(opts, 'deliveryTimeoutMs', 1),
    requestTimeoutMs: integer(opts, 'requestTimeoutMs', 1),
    retryBackoffMs: integer(opts, 'retryBackoffMs', 0),
    retryBackoffMaxMs: integer(opts, 'retryBackoffMaxMs', 0),
    maxInFlight: integer(opts, 'maxInFlight', 1, 1000),
    metadataMaxAgeMs: integer(opts, 'metadataMaxAgeMs', 0),
    connectTimeoutMs: integer(opts, 'connectTimeoutMs', 1),
    partitioner: opts.partitioner,
    adaptivePartitioning: opts.adaptivePartitioning ?? true,
    allowAutoTopicCreation: opts.allowAutoTopicCreation ?? true,
    idempotent: false,
    transactionalId: opts.transactionalId,
    transactionTimeoutMs: integer(opts, 'transactionTimeoutMs', 1, 0x7fffffff),
    mapBrokerAddress: opts.mapBrokerAddress,
    tls: resolveTls(opts.tls),
    sasl: resolveSasl(opts.sasl),
  };
  if (opts.transactionalId !== undefined) {
    if (typeof opts.transactionalId !== 'string' || opts.transactionalId.length === 0) throw new ConfigError('transactionalId must be a non-empty string');
    if (opts.idempotent === false) throw new ConfigError('a transactional producer is idempotent: idempotent cannot be false');
  }
  // As in Java: on by default unless the settings conflict; asked for with conflicting
  // settings, an error (idempotence needs acks=all and at most 5 requests in flight).
  const idempotenceFits = resolved.acks === -1 && resolved.maxInFlight <= 5;
  if (opts.idempotent === true && !idempotenceFits) {
    throw new ConfigError(`idempotent: true needs acks 'all' (-1) and maxInFlight <= 5; got acks ${resolved.acks}, maxInFlight ${resolved.maxInFlight}`);
  }
  if (opts.idempotent !== undefined && typeof opts.idempotent !== 'boolean') throw new ConfigError('idempotent must be a boolean');
  if (resolved.transactionalId !== undefined && !idempotenceFits) {
    throw new ConfigError(`a transactional producer needs acks 'all' (-1) and maxInFlight <= 5; got acks ${resolved.acks}, maxInFlight ${resolved.maxInFlight}`);
  }
  resolved.idempotent = opts.idempotent ?? (idempotenceFits || resolved.transactionalId !== undefined);
  if (resolved.deliveryTimeoutMs < resolved.lingerMs + resolved.requestTimeoutMs) {
    // Java refuses this too: a record could expire before its first attempt could finish.
    throw new ConfigError(
      `deliveryTimeoutMs (${resolved.deliveryTimeoutMs}) must be at least lingerMs + requestTimeoutMs (${resolved.lingerMs + resolved.requestTimeoutMs})`,
    );
  }
  const waitingMemory = opts.waitingMemory ?? WAITING_MEMORY_FACTOR * resolved.bufferMemory;
  if (typeof waitingMemory !== 'number' || !Number.isSafeInteger(waitingMemory) || waitingMemory < 1024) {
    const given = opts.waitingMemory === undefined ? `${shown(waitingMemory)} (${WAITING_MEMORY_FACTOR} × bufferMemory, its default)` : shown(waitingMemory);
    throw new ConfigError(`waitingMemory must be an integer of at least 1024 bytes, got ${given}`);
  }
  resolved.waitingMemory = waitingMemory;
  if (resolved.retryBackoffMaxMs < resolved.retryBackoffMs) resolved.retryBackoffMaxMs = resolved.retryBackoffMs;
  // A grown batch still has to fit a request, with room for the request's own framing.
  if (opts.maxBatchSize === undefined) resolved.maxBatchSize = Math.min(DEFAULTS.maxBatchSize, Math.max(resolved.batchSize, resolved.maxRequestSize - 1024));
  if (opts.maxBatchSize !== undefined && resolved.maxBatchSize < resolved.batchSize) {
    // Quietly raised, a maxBatchSize of 10 would read as honoured; below batchSize it can only be a mistake.
    throw new ConfigError(
      `maxBatchSize (${resolved.maxBatchSize}) is below batchSize (${resolved.batchSize}): it is how far past batchSize a batch may grow under load; set it to batchSize for batches that never grow past it`,
    );
  }
  if (resolved.maxBatchSize < resolved.batchSize) resolved.maxBatchSize = resolved.batchSize;
  if (resolved.maxBatchSize > resolved.maxRequestSize - 1024) {
    throw new ConfigError(`maxBatchSize (${resolved.maxBatchSize}) must leave 1024 bytes of maxRequestSize (${resolved.maxRequestSize}) for the request's framing`);
  }
  return resolved;
}
