/**
 * Compression in RecordBatch v2 wraps the records section only, as one block: the header
 * stays readable (brokers validate and index it without decompressing) and its codec
 * bits say how to undo the block.
 */
import { checkWholeBatch, stampCrc } from './batch-header.js';
import { CODEC_ID, CODEC_NAME } from '../compression/codecs.js';
import { ATTRIBUTES_OFFSET, COMPRESSION_CODEC_MASK, LENGTH_OFFSET, LOG_OVERHEAD, RECORDS_OFFSET } from './layout.js';

export type CompressFunction = (codecId: number, data: Buffer) => Promise<Buffer>;
export type DecompressFunction = (codecId: number, data: Buffer) => Promise<Buffer>;
/** A compressor that works on the calling thread or returns undefined (see compressSync in the compression module). */
export type CompressSyncFunction = (codecId: number, data: Buffer) => Buffer | undefined;

/**
 * A new batch whose records section is `compress(codecId, records)`, with the codec
 * bits, batchLength and CRC updated and every other header field kept. Codec 0 (none)
 * returns `batch` itself. `batch` is read after the compressor finishes, so leave its
 * buffer alone (do not return it to a pool) until the promise settles.
 */
export async function compressBatch(batch: Buffer, codecId: number, compress: CompressFunction): Promise<Buffer> {
  checkWholeBatch(batch, 'compressBatch');
  if (codecId === CODEC_ID.none) return batch;
  const attributes = uncompressedAttributes(batch, codecId);
  return withRecords(batch, attributes, codecId, await compress(codecId, batch.subarray(RECORDS_OFFSET)));
}

/**
 * compressBatch on the calling thread, with a compressor that answers at once or says
 * (undefined) that it cannot; then undefined here too, and the batch is untouched.
 */
export function compressBatchSync(batch: Buffer, codecId: number, compress: CompressSyncFunction): Buffer | undefined {
  checkWholeBatch(batch, 'compressBatchSync');
  if (codecId === CODEC_ID.none) return batch;
  const attributes = uncompressedAttributes(batch, codecId);
  const block = compress(codecId, batch.subarray(RECORDS_OFFSET));
  return block && withRecords(batch, attributes, codecId, block);
}

/** The batch's attributes, after checking that it is not compressed yet and `codecId` is known. */
function uncompressedAttributes(batch: Buffer, codecId: number): number {
  if (CODEC_NAME[codecId] === undefined) throw new RangeError(`unknown compression codec id ${codecId}`);
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  if ((attributes & COMPRESSION_CODEC_MASK) !== CODEC_ID.none) {
    throw new RangeError(`record batch is already compressed (${CODEC_NAME[attributes & COMPRESSION_CODEC_MASK] ?? 'unknown codec'})`);
  }
  return attributes;
}

/** The batch's header with `block` as its records section: codec bits, batchLength and CRC updated. */
function withRecords(batch: Buffer, attributes: number, codecId: number, block: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORDS_OFFSET + block.length);
  batch.copy(out, 0, 0, RECORDS_OFFSET);
  out.set(block, RECORDS_OFFSET);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  out.writeInt16BE((attributes & ~COMPRESSION_CODEC_MASK) | codecId, ATTRIBUTES_OFFSET);
  stampCrc(out);
  return out;
}
