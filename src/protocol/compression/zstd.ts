import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { KafkaWireError, ProtocolError } from '../../errors.js';
import { DecompressionLimitError } from './errors.js';
import { checkOutputSize } from './limits.js';
import { fn, type OptionalPackage } from './loader.js';

/**
 * Kafka's zstd is plain zstd frames (RFC 8878), what zstd-jni's ZstdOutputStream writes:
 * no dictionary, no content size (the stream doesn't know it up front), no checksum.
 *
 * Two implementations, chosen once per process:
 * - node:zlib, from Node 22.15 / 23.8 on, which decodes with an exact output limit;
 * - else the optional package @mongodb-js/zstd, pinned to 1.x: its platform binaries
 *   are npm packages, while 2.x and later fetch theirs from GitHub at install time.
 * Both compress at zstd's default level 3, which is also Kafka's default.
 *
 * Before decoding, decompress walks the frame and block headers (see zstdFrames), for
 * both implementations:
 * - it bounds the output, which @mongodb-js/zstd cannot limit itself;
 * - it rejects a truncated frame, which zlib decodes to a short result without complaint;
 * - it splits concatenated frames, which zstd-jni (Kafka's reader) reads in sequence but
 *   zlib stops after the first of, silently dropping the rest; and skippable frames,
 *   which zlib returns nothing for when they come first.
 */

export interface ZstdApi {
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

/** The zstd half of node:zlib in Node >= 22.15, which @types/node 20 does not declare. */
export interface ZlibZstd {
  zstdCompress(data: Buffer, callback: (error: Error | null, result: Buffer) => void): void;
  zstdDecompress(data: Buffer, options: { maxOutputLength: number }, callback: (error: Error | null, result: Buffer) => void): void;
}

/** node:zlib when this Node has zstd, else undefined. */
export function zlibZstd(): ZlibZstd | undefined {
  const candidate = zlib as unknown as Partial<ZlibZstd>;
  return typeof candidate.zstdCompress === 'function' && typeof candidate.zstdDecompress === 'function' ? (candidate as ZlibZstd) : undefined;
}

export const ZSTD_PACKAGE: OptionalPackage<ZstdApi> = {
  codec: 'zstd',
  packageName: '@mongodb-js/zstd',
  installCommand: 'npm install @mongodb-js/zstd@^1.2.2 (or run on Node.js 22.15 or later, whose zlib has zstd)',
  bind: (exports) => {
    const compress = fn<ZstdApi['compress']>(exports.compress);
    const decompress = fn<ZstdApi['decompress']>(exports.decompress);
    return compress && decompress ? { compress, decompress } : undefined;
  },
};

/** One way to run zstd, whichever was found. */
export interface ZstdBackend {
  compress(data: Buffer): Promise<Buffer>;
  /** Decodes; `limit` is passed on to implementations that can enforce it themselves. */
  decompress(data: Buffer, limit: number): Promise<Buffer>;
}

export function zlibBackend(z: ZlibZstd): ZstdBackend {
  const compress = promisify(z.zstdCompress.bind(z));
  const decompress = promisify(z.zstdDecompress.bind(z));
  return {
    compress: (data) => compress(data),
    decompress: async (data, limit) => {
      try {
        return await decompress(data, { maxOutputLength: limit });
      } catch (cause) {
        if ((cause as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressionLimitError('zstd', limit, { cause });
        throw cause;
      }
    },
  };
}

export function packageBackend(api: ZstdApi): ZstdBackend {
  return { compress: (data) => api.compress(data), decompress: (data) => api.decompress(data) };
}

export async function zstdCompress(backend: ZstdBackend, data: Buffer): Promise<Buffer> {
  try {
    return await backend.compress(data);
  } catch (cause) {
    throw new KafkaWireError('zstd compression failed', { cause });
  }
}

export async function zstdDecompress(backend: ZstdBackend, data: Buffer, limit: number): Promise<Buffer> {
  const frames = zstdFrames(data);
  checkOutputSize('zstd', frames.reduce((sum, frame) => sum + frame.bound, 0), limit);

  const parts: Buffer[] = [];
  let total = 0;
  for (const frame of frames) {
    let part: Buffer;
    try {
      // zlib wants a positive limit; a frame that only fits a zero budget has a zero bound.
      part = await backend.decompress(frame.data, Math.max(1, limit - total));
    } catch (cause) {
      if (cause instanceof KafkaWireError) throw cause;
      throw new ProtocolError(`Corrupt zstd frame at offset ${frame.offset}: ${(cause as Error).message}`, { cause, offset: frame.offset });
    }
    total += part.length;
    // Holds whenever the decoder keeps to the format's block limits; checked, not assumed.
    checkOutputSize('zstd', total, limit);
    parts.push(part);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_SIZE_MAX = 128 * 1024;

const BLOCK_RAW = 0;
const BLOCK_RLE = 1;
const BLOCK_COMPRESSED = 2;

export interface ZstdFrame {
  /** The frame's bytes, magic to checksum. */
  data: Buffer;
  /** Where the frame starts in the input, for error messages. */
  offset: number;
  /** The most bytes it can decode to. */
  bound: number;
}

/**
 * Splits `data` into its zstd frames, leaving out skippable frames, each with the most
 * bytes it can decode to, read from headers alone; throws a ProtocolError unless `data`
 * is a sequence of whole frames.
 *
 * Raw and RLE blocks state their decoded size exactly. A compressed block decodes to at
 * most Block_Maximum_Size = min(window size, 128 KiB), and decoders must reject one that
 * decodes to more; libzstd does, for both halves of that min (a crafted block of RLE
 * literals one byte over either is "Data corruption detected"). So for streams from real
 * compressors, whose compressed blocks are full except the last, the bound is within one
 * block of the true size.
 */
export function zstdFrames(data: Buffer): ZstdFrame[] {
  if (data.length === 0) throw new ProtocolError('Empty zstd data: no frame', { offset: 0 });
  const frames: ZstdFrame[] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < 4) throw new ProtocolError('Truncated zstd frame magic', { offset: at });
    const magic = data.readUInt32LE(at);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (data.length - at < 8) throw new ProtocolError('Truncated zstd skippable frame', { offset: at });
      const size = data.readUInt32LE(at + 4);
      if (size > data.length - at - 8) throw new ProtocolError('Truncated zstd skippable frame', { offset: at });
      at += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) {
      throw new ProtocolError(`Not a zstd frame: magic 0x${magic.toString(16).padStart(8, '0')}`, { offset: at });
    }
    const { bound, end } = frameBound(data, at + 4);
    frames.push({ data: data.subarray(at, end), offset: at, bound });
    at = end;
  }
  return frames;
}

/** The most bytes `data` can decode to: the sum of its frames' bounds. */
export function zstdOutputBound(data: Buffer): number {
  return zstdFrames(data).reduce((sum, frame) => sum + frame.bound, 0);
}

function frameBound(data: Buffer, start: number): { bound: number; end: number } {
  const need = (at: number, n: number, what: string): void => {
    if (data.length - at < n) throw new ProtocolError(`Truncated zstd frame: ${what}`, { offset: at });
  };

  need(start, 1, 'frame header');
  const descriptor = data[start]!;
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictIdSize = [0, 1, 2, 4][descriptor & 0x03]!;
  if (descriptor & 0x08) throw new ProtocolError('zstd frame header sets its reserved bit', { offset: start });
  const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;

  let at = start + 1;
  let windowSize = 0;
  need(at, (singleSegment ? 0 : 1) + dictIdSize + fcsSize, 'frame header');
  if (!singleSegment) {
    const windowDescriptor = data[at]!;
    const windowBase = 2 ** (10 + (windowDescriptor >>> 3));
    windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 0x07);
    at += 1;
  }
  at += dictIdSize;
  if (singleSegment) {
    // No window descriptor: the window is the whole content, whose size is then always present.
    windowSize = fcsSize === 1 ? data[at]! : fcsSize === 2 ? data.readUInt16LE(at) + 256 : fcsSize === 4 ? data.readUInt32LE(at) : Number(data.readBigUInt64LE(at));
  }
  at += fcsSize;
  const blockMaximum = Math.min(windowSize, BLOCK_SIZE_MAX);

  let bound = 0;
  for (let last = false; !last; ) {
    need(at, 3, 'block header');
    const header = data.readUIntLE(at, 3);
    last = (header & 1) === 1;
    const type = (header >>> 1) & 0x3;
    const size = header >>> 3;
    at += 3;
    switch (type) {
      case BLOCK_RAW:
        need(at, size, 'raw block');
        bound += size;
        at += size;
        break;
      case BLOCK_RLE:
        need(at, 1, 'RLE block');
        bound += size;
        at += 1;
        break;
      case BLOCK_COMPRESSED:
        if (size > blockMaximum) throw new ProtocolError(`zstd block of ${size} bytes exceeds the ${blockMaximum}-byte block maximum`, { offset: at - 3 });
        need(at, size, 'compressed block');
        bound += blockMaximum;
        at += size;
        break;
      default:
        throw new ProtocolError('zstd block has the reserved block type', { offset: at - 3 });
    }
  }
  if (hasChecksum) {
    need(at, 4, 'content checksum');
    at += 4;
  }
  // The declared content size is not used as a bound: the decoder checks it only once
  // the frame is done, after it has produced whatever the blocks hold.
  return { bound, end: at };
}
