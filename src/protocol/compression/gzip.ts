import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { KafkaWireError, ProtocolError } from '../../errors.js';
import { DecompressionLimitError } from './errors.js';
import { SYNC_COMPRESS_LIMIT } from './limits.js';

// The callback forms of node:zlib run deflate/inflate on the libuv thread pool, so a large
// batch does not stall the event loop the way the *Sync forms would; small inputs are
// cheaper on the main thread (see SYNC_COMPRESS_LIMIT).
const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

/**
 * A gzip stream (RFC 1952) at zlib's default level 6, the same as Kafka's Java producer
 * (compression.gzip.level defaults to Deflater.DEFAULT_COMPRESSION).
 */
export async function gzipCompress(data: Buffer): Promise<Buffer> {
  try {
    return data.length <= SYNC_COMPRESS_LIMIT ? zlib.gzipSync(data) : await gzipAsync(data);
  } catch (cause) {
    throw new KafkaWireError('gzip compression failed', { cause });
  }
}

/**
 * Inflates a gzip stream. zlib itself stops at `limit` bytes of output (maxOutputLength),
 * so a bomb costs at most that much memory. Concatenated gzip members decode as one
 * stream, as Java's GZIPInputStream does.
 */
export async function gzipDecompress(data: Buffer, limit: number): Promise<Buffer> {
  try {
    return await gunzipAsync(data, { maxOutputLength: limit });
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DecompressionLimitError('gzip', limit, { cause });
    }
    throw new ProtocolError(`Corrupt gzip data: ${(cause as Error).message}`, { cause });
  }
}
