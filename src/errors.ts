import { errorCodeInfo } from './protocol/error-codes.js';

/**
 * Every error kafka-wire throws is a KafkaWireError with a stable `code` string.
 *
 * `instanceof` works across duplicate installs of this package (two copies in one
 * node_modules tree): each class has a brand from the global symbol registry, and
 * `Symbol.hasInstance` checks brands instead of prototype identity (as undici does).
 */
const kBrands = Symbol.for('kafka-wire.error.brands');

type Branded = { [kBrands]?: ReadonlySet<symbol> };

export interface ErrorContext {
  /** `host:port` of the broker the error concerns, when there is one. */
  broker?: string;
  /** The API and version being spoken, e.g. `Metadata v12`. */
  api?: string;
  cause?: unknown;
}

export class KafkaWireError extends Error {
  static readonly brand: symbol = Symbol.for('kafka-wire.error.KafkaWireError');
  readonly code: string = 'KAFKA_WIRE_ERROR';
  /** True when the same operation may succeed if tried again. */
  readonly retriable: boolean = false;
  readonly broker: string | undefined;
  readonly api: string | undefined;

  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.broker = context.broker;
    this.api = context.api;
    const brands = new Set<symbol>();
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) brands.add((c as unknown as { brand: symbol }).brand);
    }
    Object.defineProperty(this, kBrands, { value: brands });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    return (value as Branded)[kBrands]?.has(this.brand) ?? false;
  }
}

/** Bytes that do not follow the protocol: truncated, lying lengths, bad varints. */
export class ProtocolError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.ProtocolError');
  override readonly code = 'KAFKA_WIRE_PROTOCOL';
  /** Byte offset in the buffer being read where the problem was found. */
  readonly offset: number | undefined;
  /**
   * What the other end speaks instead of Kafka, when its answer shows it: a TLS listener
   * dialled without TLS, HTTP, or ('other') a first answer that cannot be a Kafka frame.
   * Waiting cannot change that, so sends fail with this error at once rather than after
   * maxBlockMs.
   */
  readonly listener: 'HTTP' | 'TLS' | 'other' | undefined;

  constructor(message: string, context: ErrorContext & { offset?: number; listener?: 'HTTP' | 'TLS' | 'other' } = {}) {
    super(message, context);
    this.offset = context.offset;
    this.listener = context.listener;
  }
}

/** The socket failed, closed, or could not be opened. Retriable: a new connection may work. */
export class ConnectionError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.ConnectionError');
  override readonly code = 'KAFKA_WIRE_CONNECTION';
  override readonly retriable = true;
}

/** Why authentication failed, for code that reacts to it (messages are for people). */
export type AuthenticationFailure =
  /** The broker refused the credentials or token (SASL_AUTHENTICATION_FAILED). */
  | 'credentials'
  /** The broker does not enable the SASL mechanism (UNSUPPORTED_SASL_MECHANISM). */
  | 'mechanism'
  /** The SCRAM server proved nothing, or proved the wrong thing: not the broker we meant. */
  | 'server-signature'
  /** The OAUTHBEARER token provider failed or gave no token. */
  | 'token'
  /** Any other SASL exchange failure (ILLEGAL_SASL_STATE, a malformed challenge). */
  | 'sasl'
  /** The broker's certificate does not verify against the trusted CAs. */
  | 'certificate'
  /** The certificate verifies but does not name the host we connected to. */
  | 'hostname'
  /** The TLS handshake failed otherwise: the broker refused our certificate, no common protocol, not a TLS port. */
  | 'tls';

/**
 * The broker refused who we are, or we refused who it is: wrong credentials, a SASL
 * mechanism it does not enable, a certificate that does not verify, a host name the
 * certificate does not name. Not retriable: the same settings fail the same way, and
 * retrying would only hammer the broker (as Java's AuthenticationException).
 */
export class AuthenticationError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.AuthenticationError');
  override readonly code = 'KAFKA_WIRE_AUTHENTICATION';
  readonly reason: AuthenticationFailure;
  /** Kafka's error code when the broker said no (58, 33, 34); undefined for TLS and client-side failures. */
  readonly errorCode: number | undefined;
  /** With reason 'mechanism': the mechanisms the broker enables. */
  readonly enabledMechanisms: readonly string[] | undefined;

  constructor(
    message: string,
    context: ErrorContext & { reason: AuthenticationFailure; errorCode?: number; enabledMechanisms?: readonly string[] },
  ) {
    super(message, context);
    this.reason = context.reason;
    this.errorCode = context.errorCode;
    this.enabledMechanisms = context.enabledMechanisms;
  }
}

/** A request got no response in time. The connection it was sent on is closed. */
export class RequestTimeoutError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.RequestTimeoutError');
  override readonly code = 'KAFKA_WIRE_TIMEOUT';
  override readonly retriable = true;
}

/** The client and broker share no version of an API, or a field needs a newer version. */
export class UnsupportedVersionError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.UnsupportedVersionError');
  override readonly code = 'KAFKA_WIRE_UNSUPPORTED_VERSION';
}

/** Options that cannot work, found when they are given. */
export class ConfigError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.ConfigError');
  override readonly code = 'KAFKA_WIRE_CONFIG';
}

/** The broker answered with an error code (Kafka's `Errors` table). */
export class BrokerError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.BrokerError');
  override readonly code = 'KAFKA_WIRE_BROKER';
  override readonly retriable: boolean;
  /** Kafka's numeric error code, e.g. 6. */
  readonly errorCode: number;
  /** Kafka's name for it, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly type: string;
  /** The broker's metadata we hold is stale: refresh it before retrying. */
  readonly refreshMetadata: boolean;

  constructor(errorCode: number, context: ErrorContext & { detail?: string | null } = {}) {
    const info = errorCodeInfo(errorCode);
    const where = [context.api, context.broker].filter(Boolean).join(' from ');
    const detail = context.detail ? `: ${context.detail}` : '';
    super(`${info.name} (${errorCode})${where ? ` in ${where}` : ''}: ${info.message}${detail}`, context);
    this.errorCode = errorCode;
    this.type = info.name;
    this.retriable = info.retriable;
    this.refreshMetadata = info.refreshMetadata;
  }
}

/** A record that can never be sent: bigger than a batch may be, or than a request may carry. */
export class RecordTooLargeError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.RecordTooLargeError');
  override readonly code = 'KAFKA_WIRE_RECORD_TOO_LARGE';
}

/** A record the producer cannot accept as given: wrong types, bad partition, bad timestamp. */
export class InvalidRecordError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.InvalidRecordError');
  override readonly code = 'KAFKA_WIRE_INVALID_RECORD';
}

/**
 * No room for the record: the memory budget stayed full for longer than send() may wait,
 * the producer fails fast (`bufferFullPolicy: 'fail'`), or so many sends already wait
 * that their copies fill the waiting budget. The message names the limit.
 */
export class BufferFullError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.BufferFullError');
  override readonly code = 'KAFKA_WIRE_BUFFER_FULL';
  override readonly retriable = true;
}

/** A topic (or a partition of it) the cluster does not have, after waiting for metadata as long as allowed (maxBlockMs). */
export class UnknownTopicError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.UnknownTopicError');
  override readonly code = 'KAFKA_WIRE_UNKNOWN_TOPIC';
  readonly topic: string;

  constructor(topic: string, message: string, context: ErrorContext = {}) {
    super(message, context);
    this.topic = topic;
  }
}

/** A record was not acknowledged within the delivery timeout, retries included. */
export class DeliveryTimeoutError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.DeliveryTimeoutError');
  override readonly code = 'KAFKA_WIRE_DELIVERY_TIMEOUT';
}

/**
 * The producer was closed: no more sends, and the records close() could not deliver in
 * time. For a record that was sent, the message says it is not known to be written: the
 * broker may have it.
 */
export class ProducerClosedError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.ProducerClosedError');
  override readonly code = 'KAFKA_WIRE_CLOSED';
}

/** A send cancelled through its AbortSignal before the record went into a request. */
export class AbortedError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.AbortedError');
  override readonly code = 'KAFKA_WIRE_ABORTED';
}

/** A transactional call made in a state that does not allow it (e.g. commit before begin). */
export class TransactionStateError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.TransactionStateError');
  override readonly code = 'KAFKA_WIRE_TRANSACTION_STATE';
}

/**
 * The transaction cannot commit because something in it failed: a record, an offset
 * commit, or the commit itself. Thrown by send(), sendOffsetsToTransaction() and
 * commitTransaction() once the transaction failed; abortTransaction(), then a new one may start.
 */
export class TransactionAbortableError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.TransactionAbortableError');
  override readonly code = 'KAFKA_WIRE_TRANSACTION_ABORTABLE';
}

/**
 * Another producer with the same transactional id took over (a newer epoch), or (with
 * transactions v1) the coordinator ended the transaction, moved the epoch on, and refused
 * this producer's commit at the old one. Every send, and every transactional call after
 * it, fails with this. This producer can do nothing more: close it. Fatal, never retried.
 * (A partition leader refusing the epoch is a TransactionAbortableError first: the abort
 * asks the coordinator, which tells a timeout from a takeover.)
 */
export class ProducerFencedError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.ProducerFencedError');
  override readonly code = 'KAFKA_WIRE_PRODUCER_FENCED';
}

/** The cluster answered a topic's metadata with an error that waiting cannot change. */
export class TopicError extends KafkaWireError {
  static override readonly brand: symbol = Symbol.for('kafka-wire.error.TopicError');
  override readonly code: string = 'KAFKA_WIRE_TOPIC';
  readonly topic: string;
  /** Kafka's error code for the topic. */
  readonly errorCode: number;

  constructor(topic: string, errorCode: number, message: string, context: ErrorContext = {}) {
    super(message, context);
    this.topic = topic;
    this.errorCode = errorCode;
  }
}

/** A topic name the cluster refuses (INVALID_TOPIC_EXCEPTION, 17): waiting cannot make it valid. */
export class InvalidTopicError extends TopicError {
  static override readonly brand = Symbol.for('kafka-wire.error.InvalidTopicError');
  override readonly code = 'KAFKA_WIRE_INVALID_TOPIC';
}

/** The cluster does not let these credentials write to the topic (TOPIC_AUTHORIZATION_FAILED, 29). */
export class TopicAuthorizationError extends TopicError {
  static override readonly brand = Symbol.for('kafka-wire.error.TopicAuthorizationError');
  override readonly code = 'KAFKA_WIRE_TOPIC_AUTHORIZATION';
}

/**
 * With `bufferFullPolicy: 'drop-oldest'`: the record was dropped, never sent, to make room
 * for newer ones while the memory budget was full.
 */
export class RecordDroppedError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.RecordDroppedError');
  override readonly code = 'KAFKA_WIRE_RECORD_DROPPED';
}

/** The record was part of a transaction that abortTransaction() aborted before it was sent. */
export class TransactionAbortedError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.TransactionAbortedError');
  override readonly code = 'KAFKA_WIRE_TRANSACTION_ABORTED';
}

/**
 * The innermost cause: for a connection failure, the socket's own error (ECONNREFUSED,
 * ...), which a ConnectionError carries as its `cause` however many layers reported it.
 * (Internal: not exported from the package.)
 */
/**
 * Whether `err`, or an error that caused it, shows that a listener cannot be talked to as
 * configured, however long one waits: refused credentials or certificates, or an answer
 * that is TLS or HTTP instead of Kafka.
 */
export function cannotHealByWaiting(err: unknown): err is Error {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof AuthenticationError || (e instanceof ProtocolError && e.listener !== undefined)) return true;
  }
  return false;
}

export function rootCause(err: Error): Error {
  let e = err;
  while (e.cause instanceof Error) e = e.cause;
  return e;
}
