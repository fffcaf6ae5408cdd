import { constants as bufferConstants } from 'node:buffer';
import { ConfigError } from '../../errors.js';
import type { CompressionName } from './codecs.js';
import { DecompressionLimitError } from './errors.js';

/**
 * 256 MiB. Far above any batch a broker sends under default settings (message.max.bytes
 * is about 1 MiB, fetch.max.bytes 50 MiB, and compression ratios of a few times), far
 * below what it takes to exhaust a process's heap.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export interface DecompressOptions {
  /**
   * Most bytes decompression may produce; more is a DecompressionLimitError. The check
   * happens while decoding (or before it, where the format declares sizes), so memory
   * use stays near this figure whatever the input claims.
   */
  maxOutputLength?: number;
}

/** The limit for one call: validated, since a bad value would otherwise surface as a zlib RangeError. */
export function outputLimit(options: DecompressOptions | undefined): number {
  const limit = options?.maxOutputLength ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > bufferConstants.MAX_LENGTH) {
    throw new ConfigError(`maxOutputLength must be an integer from 1 to ${bufferConstants.MAX_LENGTH}, got ${String(limit)}`);
  }
  return limit;
}

/** Throws when `size` (bytes decoded or about to be) goes past `limit`. */
export function checkOutputSize(codec: CompressionName, size: number, limit: number): void {
  if (size > limit) throw new DecompressionLimitError(codec, limit);
}

/**
 * Inputs up to this size are compressed on the main thread when the library has a
 * synchronous call. Handing work to the libuv pool costs ~40-50 µs of CPU per call here
 * (measured: lz4 of 16 KiB takes 4 µs synchronously, 50 µs through the pool), far more
 * than the work itself for a producer's batches; above this size the event loop would
 * stall long enough for the pool to pay off.
 */
export const SYNC_COMPRESS_LIMIT = 256 * 1024;

/**
 * The same limit for lz4 and snappy, which compress a producer's batches at gigabytes a
 * second: a batch of the default maxBatchSize (just under 1 MiB) takes 0.2-0.3 ms on the
 * main thread, less CPU than handing its 64 KiB blocks to the pool (measured end to end,
 * 200,000 records of 1 KiB with lz4: 2.27-2.74 → 2.01-2.30 µs of CPU per record, three
 * runs each alternating). Above it the pool's parallelism pays for the handoffs.
 */
export const FAST_CODEC_SYNC_COMPRESS_LIMIT = 1024 * 1024;
