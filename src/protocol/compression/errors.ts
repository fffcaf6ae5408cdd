import { KafkaWireError, type ErrorContext } from '../../errors.js';
import type { CompressionName } from './codecs.js';

/**
 * A codec whose implementation lives in an optional npm package was asked for, and that
 * package is not installed or did not load (a missing platform binary, an incompatible
 * major version). Installing the named package fixes it; retrying without doing so won't.
 */
export class MissingCodecError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.MissingCodecError');
  override readonly code = 'KAFKA_WIRE_MISSING_CODEC';
  readonly codec: CompressionName;
  /** The npm package that provides the codec, e.g. `lz4-napi`. */
  readonly packageName: string;

  constructor(codec: CompressionName, packageName: string, installCommand: string, context: ErrorContext & { detail?: string } = {}) {
    const detail = context.detail ? ` (${context.detail})` : '';
    super(`${codec} compression needs the optional package ${packageName}: ${installCommand}${detail}`, context);
    this.codec = codec;
    this.packageName = packageName;
  }
}

/**
 * A record batch names a codec id that Kafka does not define. The id comes from bits 0-2
 * of the batch attributes, so 5-7 are the values a corrupt or future batch can carry.
 */
export class UnsupportedCodecError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.UnsupportedCodecError');
  override readonly code = 'KAFKA_WIRE_UNSUPPORTED_CODEC';
  readonly codecId: number;

  constructor(codecId: number, context: ErrorContext = {}) {
    super(`Unknown compression codec id ${codecId}: Kafka defines 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd`, context);
    this.codecId = codecId;
  }
}

/**
 * Decompressing would produce more than the caller's `maxOutputLength`. A few kilobytes of
 * compressed input can expand to gigabytes, so the limit turns that into this error, not
 * an out-of-memory crash.
 */
export class DecompressionLimitError extends KafkaWireError {
  static override readonly brand = Symbol.for('kafka-wire.error.DecompressionLimitError');
  override readonly code = 'KAFKA_WIRE_DECOMPRESSION_LIMIT';
  readonly codec: CompressionName;
  /** The limit in bytes that the output would have exceeded. */
  readonly limit: number;

  constructor(codec: CompressionName, limit: number, context: ErrorContext = {}) {
    super(`${codec} data decompresses to more than maxOutputLength (${limit} bytes)`, context);
    this.codec = codec;
    this.limit = limit;
  }
}
