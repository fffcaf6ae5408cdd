import { KafkaWireError, ProtocolError } from '../../errors.js';
import { checkOutputSize, FAST_CODEC_SYNC_COMPRESS_LIMIT } from './limits.js';
import { fn, type OptionalPackage } from './loader.js';

/**
 * Kafka's snappy is not the snappy "framing format" (the one with stream identifier
 * `ff 06 00 00 sNaPpY`). The Java client writes snappy-java's own xerial framing:
 *
 *     82 53 4e 41 50 50 59 00   magic, "\x82SNAPPY\0"
 *     00 00 00 01               format version, int32 BE
 *     00 00 00 01               oldest format version that can read this, int32 BE
 *     then per chunk:
 *     [int32 BE length][raw snappy block of that length]
 *
 * Brokers and the Java consumer read both that and a single raw snappy block, because
 * snappy-java's SnappyInputStream falls back to raw when the magic is absent.
 */

/** The functions we use from the `snappy` npm package (napi-rs; async work runs on the libuv pool). */
export interface SnappyApi {
  compress(input: Uint8Array): Promise<Buffer>;
  /** compress on the calling thread, for small inputs (see FAST_CODEC_SYNC_COMPRESS_LIMIT). */
  compressSync?: (input: Uint8Array) => Buffer;
  uncompress(input: Uint8Array, options: { asBuffer: true }): Promise<Buffer | string>;
}

export const SNAPPY_PACKAGE: OptionalPackage<SnappyApi> = {
  codec: 'snappy',
  packageName: 'snappy',
  installCommand: 'npm install snappy',
  bind: (exports) => {
    const compress = fn<SnappyApi['compress']>(exports.compress);
    const uncompress = fn<SnappyApi['uncompress']>(exports.uncompress);
    const compressSync = fn<NonNullable<SnappyApi['compressSync']>>(exports.compressSync);
    return compress && uncompress ? { compress, uncompress, ...(compressSync ? { compressSync } : {}) } : undefined;
  },
};

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
const XERIAL_HEADER_SIZE = XERIAL_MAGIC.length + 8;

/** snappy-java's SnappyOutputStream default block size; Kafka does not change it. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

/**
 * xerial-framed snappy, byte-for-byte the layout Java writes: the header, then each 32 KiB
 * slice of the input as its own raw block. Empty input is the header alone, as Java's
 * stream produces when closed without writes.
 */
export async function snappyCompress(snappy: SnappyApi, data: Buffer): Promise<Buffer> {
  const now = snappyCompressSync(snappy, data);
  if (now) return now;
  let blocks: Buffer[];
  try {
    blocks = await Promise.all(slicesOf(data).map((slice) => snappy.compress(slice)));
  } catch (cause) {
    throw new KafkaWireError('snappy compression failed', { cause });
  }
  return assembleXerial(blocks);
}

/**
 * snappyCompress on the calling thread, for data up to FAST_CODEC_SYNC_COMPRESS_LIMIT when
 * the package can; undefined otherwise (then snappyCompress uses the thread pool).
 */
export function snappyCompressSync(snappy: SnappyApi, data: Buffer): Buffer | undefined {
  const sync = snappy.compressSync;
  if (!sync || data.length > FAST_CODEC_SYNC_COMPRESS_LIMIT) return undefined;
  let blocks: Buffer[];
  try {
    blocks = slicesOf(data).map((slice) => sync(slice));
  } catch (cause) {
    throw new KafkaWireError('snappy compression failed', { cause });
  }
  return assembleXerial(blocks);
}

function slicesOf(data: Buffer): Buffer[] {
  const slices: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += XERIAL_BLOCK_SIZE) slices.push(data.subarray(offset, offset + XERIAL_BLOCK_SIZE));
  return slices;
}

function assembleXerial(blocks: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(XERIAL_HEADER_SIZE + blocks.reduce((sum, block) => sum + 4 + block.length, 0));
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(XERIAL_VERSION, 8);
  out.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, 12);
  let at = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    at = out.writeInt32BE(block.length, at);
    at += block.copy(out, at);
  }
  return out;
}

/**
 * Reads xerial framing or a single raw block. Each raw block starts with its uncompressed
 * length as a varint, so the total output is known and checked against `limit` before
 * anything is decoded, and the blocks can then be decoded in parallel.
 */
export async function snappyDecompress(snappy: SnappyApi, data: Buffer, limit: number): Promise<Buffer> {
  const blocks = isXerial(data) ? xerialBlocks(data) : [{ block: data, offset: 0 }];

  let total = 0;
  const expected = blocks.map(({ block, offset }) => {
    const length = uncompressedLength(block, offset);
    total += length;
    checkOutputSize('snappy', total, limit);
    return length;
  });

  const decoded = await Promise.all(
    blocks.map(async ({ block, offset }, i) => {
      let out: Buffer | string;
      try {
        out = await snappy.uncompress(block, { asBuffer: true });
      } catch (cause) {
        throw new ProtocolError(`Corrupt snappy block at offset ${offset}: ${(cause as Error).message}`, { cause, offset });
      }
      // The decoder already enforces the declared length; this guards the limit check
      // above against a library that one day does not.
      if (typeof out === 'string' || out.length !== expected[i]) {
        throw new ProtocolError(`snappy block at offset ${offset} decoded to a length other than it declared`, { offset });
      }
      return out;
    }),
  );
  return decoded.length === 1 ? decoded[0]! : Buffer.concat(decoded, total);
}

function isXerial(data: Buffer): boolean {
  // A raw block could in theory begin with these 8 bytes too; snappy-java resolves the
  // ambiguity the same way, so the broker would read such a block as xerial as well.
  return data.length >= XERIAL_MAGIC.length && XERIAL_MAGIC.equals(data.subarray(0, XERIAL_MAGIC.length));
}

interface Block {
  block: Buffer;
  /** Where the block starts in the whole input, for error messages. */
  offset: number;
}

function xerialBlocks(data: Buffer): Block[] {
  const blocks: Block[] = [];
  let at = readXerialHeader(data, 0);
  while (at < data.length) {
    // snappy-java reads concatenated streams: a second header where a chunk length would
    // be. Its first four bytes as an int32 are negative, so they can't be a real length.
    if (data.length - at >= XERIAL_MAGIC.length && XERIAL_MAGIC.equals(data.subarray(at, at + XERIAL_MAGIC.length))) {
      at = readXerialHeader(data, at);
      continue;
    }
    if (data.length - at < 4) throw new ProtocolError('Truncated xerial snappy chunk length', { offset: at });
    const length = data.readInt32BE(at);
    if (length <= 0 || length > data.length - at - 4) {
      throw new ProtocolError(`xerial snappy chunk length ${length} does not fit the ${data.length - at - 4} bytes left`, { offset: at });
    }
    blocks.push({ block: data.subarray(at + 4, at + 4 + length), offset: at + 4 });
    at += 4 + length;
  }
  return blocks;
}

/** Checks the 16-byte header at `at` and returns where the first chunk starts. */
function readXerialHeader(data: Buffer, at: number): number {
  if (data.length - at < XERIAL_HEADER_SIZE) throw new ProtocolError('Truncated xerial snappy header', { offset: at });
  const version = data.readInt32BE(at + 8);
  const compatible = data.readInt32BE(at + 12);
  if (version < 1 || compatible > XERIAL_VERSION) {
    throw new ProtocolError(`Unsupported xerial snappy version ${version} (readable by ${compatible} and later)`, { offset: at + 8 });
  }
  return at + XERIAL_HEADER_SIZE;
}

/** The varint (little-endian base 128, at most 32 bits) that opens every raw snappy block. */
function uncompressedLength(block: Buffer, offset: number): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) break;
    const byte = block[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffffffff) break;
      return value;
    }
  }
  throw new ProtocolError('Corrupt snappy block: bad uncompressed-length preamble', { offset });
}
