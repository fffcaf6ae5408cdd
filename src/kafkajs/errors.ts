/**
 * KafkaJS's error classes (names, `retriable`, `type`/`code`, `cause`), and the mapping of
 * kafka-wire's typed errors onto them. The original kafka-wire error is always kept as
 * `cause`, so nothing it said is lost by the translation.
 */
import {
  AuthenticationError,
  BrokerError,
  BufferFullError,
  ConnectionError,
  DeliveryTimeoutError,
  KafkaWireError,
  ProducerFencedError,
  RecordTooLargeError,
  RequestTimeoutError,
  TopicError,
  TransactionAbortableError,
  UnknownTopicError,
} from '../errors.js';
import { MissingCodecError, UnsupportedCodecError } from '../protocol/compression/errors.js';
import { errorCode, errorCodeInfo } from '../protocol/error-codes.js';

export interface KafkaJSErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class KafkaJSError extends Error {
  override name = 'KafkaJSError';
  readonly retriable: boolean;
  readonly helpUrl?: string;

  constructor(e: string | Error, { retriable = true, cause }: KafkaJSErrorOptions = {}) {
    super(typeof e === 'string' ? e : e.message, cause === undefined ? undefined : { cause });
    this.retriable = retriable;
  }
}

export class KafkaJSNonRetriableError extends KafkaJSError {
  override name = 'KafkaJSNonRetriableError';

  constructor(e: string | Error, { cause }: { cause?: unknown } = {}) {
    super(e, { retriable: false, cause });
  }
}

/** What KafkaJSProtocolError is built from: Kafka's error name and numeric code. */
export interface ProtocolErrorInfo {
  message: string;
  type: string;
  code: number;
  retriable: boolean;
}

export class KafkaJSProtocolError extends KafkaJSError {
  override name = 'KafkaJSProtocolError';
  readonly type: string;
  readonly code: number;

  constructor(e: ProtocolErrorInfo | string, { retriable, cause }: KafkaJSErrorOptions = {}) {
    const info = typeof e === 'string' ? { message: e, type: 'UNKNOWN', code: -1, retriable: false } : e;
    super(info.message, { retriable: retriable ?? info.retriable, cause });
    this.type = info.type;
    this.code = info.code;
  }
}

export class KafkaJSConnectionError extends KafkaJSError {
  override name = 'KafkaJSConnectionError';
  readonly broker: string | undefined;
  readonly code: string | undefined;

  constructor(e: string | Error, { broker, code, cause }: { broker?: string; code?: string; cause?: unknown } = {}) {
    super(e, { cause });
    this.broker = broker;
    this.code = code;
  }
}

export class KafkaJSRequestTimeoutError extends KafkaJSError {
  override name = 'KafkaJSRequestTimeoutError';
  readonly broker: string | undefined;

  constructor(e: string | Error, { broker, cause }: { broker?: string; cause?: unknown } = {}) {
    super(e, { cause });
    this.broker = broker;
  }
}

export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNumberOfRetriesExceeded';
  /** kafka-wire bounds retries by time (deliveryTimeoutMs), not by count: -1 means "not counted". */
  readonly retryCount: number;
  readonly retryTime: number;

  constructor(e: string | Error, { retryCount = -1, retryTime = -1, cause }: { retryCount?: number; retryTime?: number; cause?: unknown } = {}) {
    super(e, { cause: cause ?? e });
    this.retryCount = retryCount;
    this.retryTime = retryTime;
  }
}

// The rest differ from their parents by name only, as in KafkaJS.
export class KafkaJSConnectionClosedError extends KafkaJSConnectionError { override name = 'KafkaJSConnectionClosedError'; }
export class KafkaJSMetadataNotLoaded extends KafkaJSError { override name = 'KafkaJSMetadataNotLoaded'; }
export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded { override name = 'KafkaJSTopicMetadataNotLoaded'; }
export class KafkaJSBrokerNotFound extends KafkaJSError { override name = 'KafkaJSBrokerNotFound'; }
export class KafkaJSPartialMessageError extends KafkaJSNonRetriableError { override name = 'KafkaJSPartialMessageError'; }
export class KafkaJSSASLAuthenticationError extends KafkaJSNonRetriableError { override name = 'KafkaJSSASLAuthenticationError'; }
export class KafkaJSNotImplemented extends KafkaJSNonRetriableError { override name = 'KafkaJSNotImplemented'; }
export class KafkaJSTimeout extends KafkaJSNonRetriableError { override name = 'KafkaJSTimeout'; }
export class KafkaJSServerDoesNotSupportApiKey extends KafkaJSNonRetriableError { override name = 'KafkaJSServerDoesNotSupportApiKey'; }

export function isKafkaJSError(e: unknown): e is KafkaJSError {
  return e instanceof KafkaJSError;
}

/**
 * A KafkaJSProtocolError for one of Kafka's error codes. Its message is Kafka's own
 * description of the code, as KafkaJS's is; kafka-wire's fuller message stays on `cause`.
 */
function protocolError(code: number, cause: KafkaWireError): KafkaJSProtocolError {
  const info = errorCodeInfo(code);
  return new KafkaJSProtocolError({ message: info.message, type: info.name, code: info.code, retriable: info.retriable }, { cause });
}

/** The broker's refusal behind an error, a few causes deep at most. */
function brokerCause(err: Error): BrokerError | undefined {
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++, cause = cause.cause) {
    if (cause instanceof BrokerError) return cause;
  }
  return undefined;
}

/** Authentication refusals from TLS are connection failures in KafkaJS; SASL ones are their own class. */
const TLS_REASONS = new Set(['certificate', 'hostname', 'tls']);

/**
 * The KafkaJS error for a kafka-wire error. Errors that are not kafka-wire's (a custom
 * partitioner's own throw, an error already translated) pass through unchanged.
 */
export function toKafkaJSError(err: unknown): unknown {
  if (!(err instanceof KafkaWireError)) return err;
  const cause = err;
  if (err instanceof BrokerError) return protocolError(err.errorCode, err);
  if (err instanceof ProducerFencedError) return protocolError(err.cause instanceof BrokerError ? err.cause.errorCode : errorCode('PRODUCER_FENCED'), err);
  // A transaction a broker's refusal made abortable (a refused epoch, say): KafkaJS shows the refusal itself.
  if (err instanceof TransactionAbortableError) {
    const refusal = brokerCause(err);
    if (refusal) return protocolError(refusal.errorCode, err);
  }
  if (err instanceof UnknownTopicError) return protocolError(errorCode('UNKNOWN_TOPIC_OR_PARTITION'), err);
  if (err instanceof TopicError) return protocolError(err.errorCode, err);
  // kafka-wire refuses such a record before sending it; KafkaJS would get this from the broker.
  if (err instanceof RecordTooLargeError) return protocolError(errorCode('MESSAGE_TOO_LARGE'), err);
  if (err instanceof AuthenticationError) {
    if (TLS_REASONS.has(err.reason)) return new KafkaJSConnectionError(err, { broker: err.broker, cause });
    return new KafkaJSSASLAuthenticationError(err, { cause });
  }
  if (err instanceof ConnectionError) return new KafkaJSConnectionError(err, { broker: err.broker, cause });
  if (err instanceof RequestTimeoutError) return new KafkaJSRequestTimeoutError(err, { broker: err.broker, cause });
  // kafka-wire retries until deliveryTimeoutMs: running out of it is KafkaJS's "retries exhausted".
  if (err instanceof DeliveryTimeoutError) return new KafkaJSNumberOfRetriesExceeded(err, { cause });
  if (err instanceof MissingCodecError || err instanceof UnsupportedCodecError) return new KafkaJSNotImplemented(err, { cause });
  if (err instanceof BufferFullError) return new KafkaJSError(err, { retriable: true, cause });
  return err.retriable ? new KafkaJSError(err, { cause }) : new KafkaJSNonRetriableError(err, { cause });
}
