/**
 * KafkaJS's client and producer options to kafka-wire's ProducerOptions. Every KafkaJS
 * option is either mapped or refused by name: nothing is silently ignored.
 */
import type { SaslOptions } from '../net/security.js';
import type { CompressionName } from '../protocol/compression/codecs.js';
import type { ProducerOptions } from '../producer/types.js';
import { KafkaJSNonRetriableError, KafkaJSNotImplemented } from './errors.js';
import type { KafkaConfig, ProducerConfig, RetryOptions, SASLOptions } from './types.js';

/** Refused options say what they are and why, so the user knows what to change. */
export function refuse(option: string, why: string): never {
  throw new KafkaJSNonRetriableError(`${option} is not supported by kafka-wire/kafkajs: ${why}`);
}

const KAFKA_OPTIONS = new Set(['brokers', 'ssl', 'sasl', 'clientId', 'connectionTimeout', 'requestTimeout', 'retry', 'logLevel', 'logCreator', 'enforceRequestTimeout']);
const PRODUCER_OPTIONS = new Set(['createPartitioner', 'retry', 'metadataMaxAge', 'allowAutoTopicCreation', 'idempotent', 'transactionalId', 'transactionTimeout', 'maxInFlightRequests']);
const RETRY_OPTIONS = new Set(['maxRetryTime', 'initialRetryTime', 'factor', 'multiplier', 'retries']);

/** Why each KafkaJS option kafka-wire has no equivalent for is refused. */
const REFUSED: Record<string, string> = {
  socketFactory: 'kafka-wire opens its own node:net/node:tls sockets (use mapBrokerAddress of kafka-wire for tunnels)',
  authenticationTimeout: 'kafka-wire bounds authentication by connectionTimeout and requestTimeout',
  reauthenticationThreshold: "kafka-wire re-authenticates at 85-95% of the broker's session lifetime (KIP-368) by itself",
  'retry.restartOnFailure': 'it is a consumer option, and kafka-wire is a producer',
  'enforceRequestTimeout: false': 'kafka-wire always enforces its request timeout',
};

function checkKeys(given: object, known: ReadonlySet<string>, where: string): void {
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined || known.has(key)) continue;
    const path = where ? `${where}.${key}` : key;
    refuse(path, REFUSED[path] ?? REFUSED[key] ?? 'not an option of KafkaJS 2.2.4 that kafka-wire knows');
  }
}

export function checkKafkaConfig(config: KafkaConfig): void {
  checkKeys(config, KAFKA_OPTIONS, '');
  if (config.enforceRequestTimeout === false) refuse('enforceRequestTimeout: false', REFUSED['enforceRequestTimeout: false']!);
  if (config.retry) checkKeys(config.retry, RETRY_OPTIONS, 'retry');
  if (config.sasl) toSasl(config.sasl);
}

export function checkProducerConfig(config: ProducerConfig): RetryOptions {
  checkKeys(config, PRODUCER_OPTIONS, '');
  if (config.retry) checkKeys(config.retry, RETRY_OPTIONS, 'retry');
  return config.retry ?? {};
}

export function toSasl(sasl: SASLOptions): SaslOptions {
  const mechanism = String(sasl.mechanism).toLowerCase();
  if (mechanism === 'plain') return { mechanism: 'PLAIN', username: (sasl as { username: string }).username, password: (sasl as { password: string }).password };
  if (mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    const { username, password } = sasl as { username: string; password: string };
    return { mechanism: mechanism === 'scram-sha-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512', username, password };
  }
  if (mechanism === 'oauthbearer') {
    const provider = (sasl as { oauthBearerProvider?: () => Promise<{ value: string }> }).oauthBearerProvider;
    if (typeof provider !== 'function') refuse('sasl.oauthBearerProvider (missing)', 'OAUTHBEARER needs a token provider');
    return { mechanism: 'OAUTHBEARER', token: async () => (await provider()).value };
  }
  return refuse(`sasl.mechanism '${String(sasl.mechanism)}'`, 'kafka-wire speaks PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER (not AWS IAM or custom mechanisms)');
}

/** KafkaJS's CompressionTypes values to kafka-wire's codec names. */
const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export function toCompression(type: number | undefined): CompressionName {
  const name = CODECS[type ?? 0];
  if (name === undefined) throw new KafkaJSNotImplemented(`Compression type ${String(type)} not implemented`);
  return name;
}

export function toAcks(acks: number): 0 | 1 | -1 {
  if (acks === 0 || acks === 1 || acks === -1) return acks;
  return refuse(`acks ${acks}`, 'Kafka accepts acks -1 (all), 0 and 1');
}

const DEFAULT_REQUEST_TIMEOUT = 30_000;
/** setTimeout's largest delay: "retry for ever" (KafkaJS's idempotent default of MAX_SAFE_INTEGER retries). */
const FOREVER_MS = 2_147_483_647;

/**
 * kafka-wire retries until `deliveryTimeoutMs`, not a number of times. `retries` becomes
 * the time KafkaJS's schedule could take at most: every attempt's request timeout plus
 * every backoff at its largest (KafkaJS's randomised backoff is initialRetryTime ×
 * multiplier^n, ± factor, capped at maxRetryTime).
 */
export function retryBudgetMs(retry: RetryOptions, requestTimeoutMs: number, lingerMs: number): number | undefined {
  if (retry.retries === undefined) return undefined;
  const initial = retry.initialRetryTime ?? 300;
  const max = retry.maxRetryTime ?? 30_000;
  const multiplier = retry.multiplier ?? 2;
  const factor = retry.factor ?? 0.2;
  let total = lingerMs + (retry.retries + 1) * requestTimeoutMs;
  for (let n = 0; n < retry.retries && total < FOREVER_MS; n++) total += Math.min(max, initial * multiplier ** n * (1 + factor));
  return Math.min(FOREVER_MS, Math.ceil(total));
}

/** One kafka-wire producer's share of a KafkaJS producer: what KafkaJS sets per send(). */
export interface SendSetting {
  acks: 0 | 1 | -1;
  compression: CompressionName;
  /** KafkaJS's per-send `timeout` (the broker's wait for acks), or the client's requestTimeout. */
  timeoutMs: number;
  transactional: boolean;
}

/** KafkaJS sends when send() is called, with no linger. */
const LINGER_MS = 0;

export function toProducerOptions(client: KafkaConfig, bootstrap: string[], config: ProducerConfig, retry: RetryOptions, setting: SendSetting): ProducerOptions {
  const options: ProducerOptions = {
    bootstrap,
    acks: setting.acks,
    compression: setting.compression,
    requestTimeoutMs: setting.timeoutMs,
    lingerMs: LINGER_MS,
    // KafkaJS's producer is not idempotent unless asked; its transactional sends always are.
    idempotent: setting.transactional || config.idempotent === true,
  };
  if (client.clientId !== undefined) options.clientId = client.clientId;
  if (client.connectionTimeout !== undefined) options.connectTimeoutMs = client.connectionTimeout;
  if (client.ssl) options.tls = client.ssl;
  if (client.sasl) options.sasl = toSasl(client.sasl);
  if (retry.initialRetryTime !== undefined) options.retryBackoffMs = retry.initialRetryTime;
  if (retry.maxRetryTime !== undefined) options.retryBackoffMaxMs = retry.maxRetryTime;
  const budget = retryBudgetMs(retry, setting.timeoutMs, LINGER_MS);
  if (budget !== undefined) options.deliveryTimeoutMs = budget;
  if (config.metadataMaxAge !== undefined) options.metadataMaxAgeMs = config.metadataMaxAge;
  if (config.allowAutoTopicCreation !== undefined) options.allowAutoTopicCreation = config.allowAutoTopicCreation;
  if (config.maxInFlightRequests != null) options.maxInFlight = config.maxInFlightRequests;
  if (setting.transactional) {
    options.transactionalId = config.transactionalId!;
    if (config.transactionTimeout !== undefined) options.transactionTimeoutMs = config.transactionTimeout;
  }
  return options;
}

export function defaultTimeout(client: KafkaConfig): number {
  return client.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT;
}
