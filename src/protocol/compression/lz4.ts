import { KafkaWireError, ProtocolError } from '../../errors.js';
import { checkOutputSize, FAST_CODEC_SYNC_COMPRESS_LIMIT } from './limits.js';
import { fn, type OptionalPackage } from './loader.js';
import { xxhash32 } from './xxhash32.js';

/**
 * Kafka's lz4 is the LZ4 frame format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md),
 * read by the broker with org.apache.kafka.common.compress.Lz4BlockInputStream (named
 * KafkaLZ4BlockInputStream in older releases), which accepts a subset of it:
 *
 *   magic   04 22 4d 18               0x184D2204, little-endian
 *   FLG     01 1 x x x 0 0            version 01, blocks independent (required); block
 *                                     checksum, content size, content checksum optional;
 *                                     reserved bit and dictionary id must be 0
 *   BD      0 nnn 0000                max block size 4=64 KiB .. 7=4 MiB
 *   [content size, 8 bytes LE]        if FLG says so; Kafka skips it
 *   HC                                (xxh32(FLG..end of descriptor) >> 8) & 0xff
 *   blocks  [uint32 LE size][data]    high bit of size set: data stored uncompressed
 *           [block checksum]          if FLG says so: xxh32 of the stored data
 *   end     00 00 00 00
 *   [content checksum]                if FLG says so
 *
 * For magic v0/v1 message sets Kafka ignores the header checksum, because clients before
 * KIP-57 computed it over the magic as well; for record batches (magic v2), the only kind
 * this client writes, it must be right.
 *
 * We write what Kafka's own Lz4BlockOutputStream writes: FLG 0x60, BD 0x40 (64 KiB
 * blocks), no checksums, no content size. The content checksum especially stays off:
 * Kafka 4.3 ignores it, but newer Kafka sources check it as the XOR of per-block hashes,
 * which agrees with the spec's hash of the whole content only for single-block frames.
 * (We read it per the spec.) lz4-napi's compressFrame can't be used for
 * that: it picks the block size from the input length (4 MiB blocks for a 300 KB batch,
 * which makes every reader allocate 4 MiB), so the frame is assembled here around raw
 * blocks from lz4-napi's compress.
 */

/** The functions we use from `lz4-napi` (napi-rs over lz4_flex; async work runs on the libuv pool). */
export interface Lz4Api {
  /** A raw block prefixed with the uncompressed length as uint32 LE. */
  compress(data: Uint8Array): Promise<Buffer>;
  /** Takes that same layout; the prefix is the output capacity, an error if too small. */
  uncompress(data: Uint8Array): Promise<Buffer>;
  /** compress on the calling thread, for small inputs (see FAST_CODEC_SYNC_COMPRESS_LIMIT). */
  compressSync?: (data: Uint8Array) => Buffer;
}

export const LZ4_PACKAGE: OptionalPackage<Lz4Api> = {
  codec: 'lz4',
  packageName: 'lz4-napi',
  installCommand: 'npm install lz4-napi',
  bind: (exports) => {
    const compress = fn<Lz4Api['compress']>(exports.compress);
    const uncompress = fn<Lz4Api['uncompress']>(exports.uncompress);
    const compressSync = fn<NonNullable<Lz4Api['compressSync']>>(exports.compressSync);
    return compress && uncompress ? { compress, uncompress, ...(compressSync ? { compressSync } : {}) } : undefined;
  },
};

/**
 * The functions we use from `lz4` (node-lz4: the reference C library, liblz4, compiled at
 * install). Its block compressor runs at about twice lz4_flex's speed on JSON-like records
 * (bench/README.md), so when it loads, kafka-wire compresses with it and keeps lz4-napi for
 * what it alone has: the thread pool, for batches above FAST_CODEC_SYNC_COMPRESS_LIMIT.
 */
export interface Lz4BlockApi {
  /** LZ4_compress_default of `input` into output[start, end): the block's length, 0 when it does not fit. */
  encodeBlock(input: Uint8Array, output: Uint8Array, start: number, end: number): number;
  /** LZ4_decompress_safe of `input` into `output` (its length the capacity): the bytes written, negative for corrupt input. */
  decodeBlock(input: Uint8Array, output: Uint8Array): number;
}

export const LZ4_BLOCK_PACKAGE: OptionalPackage<Lz4BlockApi> = {
  codec: 'lz4',
  packageName: 'lz4',
  installCommand: 'npm install lz4',
  bind: (exports) => {
    const encodeBlock = fn<Lz4BlockApi['encodeBlock']>(exports.encodeBlock);
    const decodeBlock = fn<Lz4BlockApi['decodeBlock']>(exports.decodeBlock);
    return encodeBlock && decodeBlock ? { encodeBlock, decodeBlock } : undefined;
  },
};

export const LZ4_MAGIC = 0x184d2204;

export const FLG = {
  VERSION_MASK: 0b1100_0000,
  VERSION_01: 0b0100_0000,
  BLOCK_INDEPENDENCE: 0b0010_0000,
  BLOCK_CHECKSUM: 0b0001_0000,
  CONTENT_SIZE: 0b0000_1000,
  CONTENT_CHECKSUM: 0b0000_0100,
  RESERVED: 0b0000_0010,
  DICT_ID: 0b0000_0001,
} as const;

const BD_BLOCK_SIZE_SHIFT = 4;
const BD_RESERVED = 0b1000_1111;
const BD_64KB = 4;

const UNCOMPRESSED_BIT = 0x8000_0000;
const BLOCK_SIZE = blockMaximumSize(BD_64KB);

/** 2^(2n+8): 4 → 64 KiB, 5 → 256 KiB, 6 → 1 MiB, 7 → 4 MiB. */
function blockMaximumSize(code: number): number {
  return 2 ** (2 * code + 8);
}

/** The header checksum byte for a frame descriptor (FLG through content size). */
export function headerChecksum(descriptor: Uint8Array): number {
  return (xxhash32(descriptor) >>> 8) & 0xff;
}

const HEADER = (() => {
  const descriptor = Buffer.from([FLG.VERSION_01 | FLG.BLOCK_INDEPENDENCE, BD_64KB << BD_BLOCK_SIZE_SHIFT]);
  const header = Buffer.alloc(7);
  header.writeUInt32LE(LZ4_MAGIC, 0);
  descriptor.copy(header, 4);
  header[6] = headerChecksum(descriptor);
  return header;
})();

/**
 * An LZ4 frame with 64 KiB independent blocks. A block that does not shrink is stored
 * as is (high bit of its size set), as Java does, so incompressible input grows by only
 * 4 bytes per 64 KiB plus 11 for the frame. Blocks are compressed concurrently on the
 * thread pool, or on this thread when lz4CompressSync can.
 */
export async function lz4Compress(lz4: Lz4Api, data: Buffer): Promise<Buffer> {
  const now = lz4CompressSync(lz4, data);
  if (now) return now;
  let blocks: StoredBlock[];
  try {
    blocks = await Promise.all(slicesOf(data).map(async (slice) => storedBlock(slice, await lz4.compress(slice))));
  } catch (cause) {
    throw compressionFailure(cause);
  }
  return assembleFrame(blocks);
}

/**
 * lz4Compress on the calling thread, for data up to FAST_CODEC_SYNC_COMPRESS_LIMIT when
 * the package can; undefined otherwise (then lz4Compress uses the thread pool).
 */
export function lz4CompressSync(lz4: Lz4Api, data: Buffer): Buffer | undefined {
  const sync = lz4.compressSync;
  if (!sync || data.length > FAST_CODEC_SYNC_COMPRESS_LIMIT) return undefined;
  const blocks: StoredBlock[] = [];
  try {
    for (const slice of slicesOf(data)) blocks.push(storedBlock(slice, sync(slice)));
  } catch (cause) {
    throw compressionFailure(cause);
  }
  return assembleFrame(blocks);
}

/**
 * The frame of lz4Compress, with each block compressed by liblz4 straight into a scratch
 * frame (capacity: the block stored as is), then copied out at its exact length: the one
 * copy assembleFrame makes too, but no block buffer per call.
 */
export function lz4CompressBlocks(lz4: Lz4BlockApi, data: Buffer): Buffer {
  const blocks = Math.ceil(data.length / BLOCK_SIZE);
  const capacity = HEADER.length + 4 * blocks + data.length + 4;
  if (scratch.length < capacity) scratch = Buffer.allocUnsafeSlow(Math.max(capacity, scratch.length * 2));
  const out = scratch;
  let at = HEADER.copy(out, 0);
  for (let offset = 0; offset < data.length; offset += BLOCK_SIZE) {
    const slice = data.subarray(offset, offset + BLOCK_SIZE);
    // Room for one byte less than the block itself: a block that does not shrink does not
    // fit, and is stored as is, as Java does.
    const written = slice.length > 1 ? lz4.encodeBlock(slice, out, at + 4, at + 4 + slice.length - 1) : 0;
    if (written > 0) {
      out.writeUInt32LE(written, at);
      at += 4 + written;
    } else {
      out.writeUInt32LE((slice.length | UNCOMPRESSED_BIT) >>> 0, at);
      at += 4 + slice.copy(out, at + 4);
    }
  }
  at = out.writeUInt32LE(0, at);
  // allocUnsafe: Buffer.from(view) would zero the new memory before copying over all of it.
  const frame = Buffer.allocUnsafe(at);
  out.copy(frame, 0, 0, at);
  return frame;
}

/** lz4CompressBlocks' frame under construction, kept between calls (the copy out is what escapes). */
let scratch = Buffer.allocUnsafeSlow(0);

interface StoredBlock {
  /** The block's size field: its length, high bit set when stored uncompressed. */
  size: number;
  data: Buffer;
}

function slicesOf(data: Buffer): Buffer[] {
  const slices: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += BLOCK_SIZE) slices.push(data.subarray(offset, offset + BLOCK_SIZE));
  return slices;
}

function storedBlock(slice: Buffer, prefixed: Buffer): StoredBlock {
  // Check the layout we rely on (lz4_flex's compress_prepend_size) instead of writing a
  // broken frame should a future lz4-napi change it.
  if (prefixed.length < 4 || prefixed.readUInt32LE(0) !== slice.length) {
    throw new KafkaWireError('lz4-napi returned a block in an unexpected layout; this lz4-napi version is not supported');
  }
  const compressed = prefixed.subarray(4);
  return compressed.length < slice.length ? { size: compressed.length, data: compressed } : { size: (slice.length | UNCOMPRESSED_BIT) >>> 0, data: slice };
}

function compressionFailure(cause: unknown): KafkaWireError {
  return cause instanceof KafkaWireError ? cause : new KafkaWireError('lz4 compression failed', { cause });
}

function assembleFrame(blocks: StoredBlock[]): Buffer {
  let length = HEADER.length + 4;
  for (const block of blocks) length += 4 + block.data.length;
  const out = Buffer.allocUnsafe(length);
  let at = HEADER.copy(out, 0);
  for (const block of blocks) {
    at = out.writeUInt32LE(block.size, at);
    at += block.data.copy(out, at);
  }
  out.writeUInt32LE(0, at);
  return out;
}

interface FrameBlock {
  /** Offset of the block's data in the frame, for error messages. */
  offset: number;
  data: Buffer;
  compressed: boolean;
}

interface Frame {
  maxBlockSize: number;
  blocks: FrameBlock[];
  contentSize: bigint | undefined;
  contentChecksum: number | undefined;
}

/**
 * Decodes a frame that Kafka's reader would accept. The whole frame is parsed and its
 * header and block checksums checked before any block is decoded; blocks are then decoded
 * one after another, with the limit checked after each, so memory never exceeds the limit
 * by more than one block. (Decoding blocks concurrently measured no faster on two cores.)
 */
export async function lz4Decompress(lz4: Lz4Api | Lz4BlockApi, data: Buffer, limit: number): Promise<Buffer> {
  const frame = parseFrame(data);
  if (frame.contentSize !== undefined) checkOutputSize('lz4', Number(frame.contentSize), limit);

  const parts: Buffer[] = [];
  let total = 0;
  for (const block of frame.blocks) {
    const part = block.compressed ? await decodeBlock(lz4, block, frame.maxBlockSize) : block.data;
    total += part.length;
    checkOutputSize('lz4', total, limit);
    parts.push(part);
  }

  const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  if (frame.contentSize !== undefined && BigInt(out.length) !== frame.contentSize) {
    throw new ProtocolError(`lz4 frame declares ${frame.contentSize} bytes of content but holds ${out.length}`);
  }
  if (frame.contentChecksum !== undefined && xxhash32(out) !== frame.contentChecksum) {
    throw new ProtocolError('lz4 frame content checksum mismatch');
  }
  return out;
}

async function decodeBlock(lz4: Lz4Api | Lz4BlockApi, block: FrameBlock, maxBlockSize: number): Promise<Buffer> {
  if ('decodeBlock' in lz4) {
    const out = Buffer.allocUnsafe(maxBlockSize);
    const length = lz4.decodeBlock(block.data, out);
    if (length < 0) {
      const cause = new Error(`LZ4_decompress_safe returned ${length}`);
      throw new ProtocolError(`Corrupt lz4 block at offset ${block.offset}: ${cause.message}`, { cause, offset: block.offset });
    }
    if (length === maxBlockSize) return out;
    // A frame's maximum block size (up to 4 MiB) bounds the block, it does not size it:
    // keep only the bytes produced, not the whole allocation behind a view.
    const exact = Buffer.allocUnsafe(length);
    out.copy(exact, 0, 0, length);
    return exact;
  }
  // lz4-napi wants the output size up front; the frame only bounds it, and the decoder
  // accepts a capacity larger than the real size and returns just the bytes produced.
  const input = Buffer.allocUnsafe(4 + block.data.length);
  input.writeUInt32LE(maxBlockSize, 0);
  block.data.copy(input, 4);
  try {
    return await lz4.uncompress(input);
  } catch (cause) {
    throw new ProtocolError(`Corrupt lz4 block at offset ${block.offset}: ${(cause as Error).message}`, { cause, offset: block.offset });
  }
}

function parseFrame(data: Buffer): Frame {
  const need = (at: number, n: number, what: string): void => {
    if (data.length - at < n) throw new ProtocolError(`Truncated lz4 frame: ${what}`, { offset: at });
  };

  need(0, 7, 'header');
  const magic = data.readUInt32LE(0);
  if (magic !== LZ4_MAGIC) {
    throw new ProtocolError(`Not an lz4 frame: magic 0x${magic.toString(16).padStart(8, '0')}, expected 0x184d2204`, { offset: 0 });
  }

  const flg = data[4]!;
  const bd = data[5]!;
  if ((flg & FLG.VERSION_MASK) !== FLG.VERSION_01) throw new ProtocolError(`Unsupported lz4 frame version ${flg >>> 6}`, { offset: 4 });
  // Kafka cannot read these, so no Kafka client writes them; a frame that has them did
  // not come from a valid batch.
  if ((flg & FLG.BLOCK_INDEPENDENCE) === 0) throw new ProtocolError('lz4 frame uses linked blocks, which Kafka does not accept', { offset: 4 });
  if (flg & FLG.DICT_ID) throw new ProtocolError('lz4 frame uses a dictionary, which Kafka does not accept', { offset: 4 });
  if (flg & FLG.RESERVED) throw new ProtocolError('lz4 frame sets a reserved FLG bit', { offset: 4 });
  const code = (bd >>> BD_BLOCK_SIZE_SHIFT) & 0x7;
  if ((bd & BD_RESERVED) !== 0 || code < 4) throw new ProtocolError(`Invalid lz4 BD byte 0x${bd.toString(16)}`, { offset: 5 });
  const maxBlockSize = blockMaximumSize(code);

  let at = 6;
  let contentSize: bigint | undefined;
  if (flg & FLG.CONTENT_SIZE) {
    need(at, 9, 'content size');
    contentSize = data.readBigUInt64LE(at);
    at += 8;
  }
  const expectedHc = headerChecksum(data.subarray(4, at));
  if (data[at] !== expectedHc) {
    throw new ProtocolError(`lz4 frame header checksum is 0x${data[at]!.toString(16)}, expected 0x${expectedHc.toString(16)}`, { offset: at });
  }
  at += 1;

  const blockChecksums = (flg & FLG.BLOCK_CHECKSUM) !== 0;
  const blocks: FrameBlock[] = [];
  for (;;) {
    need(at, 4, 'block size');
    const word = data.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & ~UNCOMPRESSED_BIT;
    if (size > maxBlockSize) throw new ProtocolError(`lz4 block of ${size} bytes exceeds the frame's ${maxBlockSize}-byte maximum`, { offset: at - 4 });
    need(at, size + (blockChecksums ? 4 : 0), 'block data');
    const block = data.subarray(at, at + size);
    if (blockChecksums && xxhash32(block) !== data.readUInt32LE(at + size)) {
      throw new ProtocolError('lz4 block checksum mismatch', { offset: at + size });
    }
    blocks.push({ offset: at, data: block, compressed: (word & UNCOMPRESSED_BIT) === 0 });
    at += size + (blockChecksums ? 4 : 0);
  }

  let contentChecksum: number | undefined;
  if (flg & FLG.CONTENT_CHECKSUM) {
    need(at, 4, 'content checksum');
    contentChecksum = data.readUInt32LE(at);
    at += 4;
  }
  // Kafka's reader stops at the end mark and never looks further, so a second frame
  // after it would be silently lost; better an error than missing records.
  if (at !== data.length) throw new ProtocolError(`${data.length - at} bytes follow the lz4 frame`, { offset: at });

  return { maxBlockSize, blocks, contentSize, contentChecksum };
}
