import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { CODEC_ID, compress, createCompressionCodecs, decompress, DecompressionLimitError, type ZlibZstd } from '../../../src/protocol/compression/index.js';
import { zstdOutputBound } from '../../../src/protocol/compression/zstd.js';
import { KAFKA_ZSTD, pattern, ZSTD_CLI } from './fixtures.js';

const ZSTD = CODEC_ID.zstd;
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
/** Frame header descriptor 0x00 (no content size, not single-segment, no checksum, no dictionary) and window 1 MiB. */
const HEADER_1MIB_WINDOW = [...MAGIC, 0x00, 0x50];

/** A 3-byte block header: last-block flag, type (0 raw, 1 RLE, 2 compressed), size. */
function blockHeader(last: boolean, type: number, size: number): number[] {
  const h = (last ? 1 : 0) | (type << 1) | (size << 3);
  return [h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff];
}

/** RLE blocks of `size` copies of 0x41 each: 4 bytes of input per block. */
function rleFrame(blocks: number, size: number): Buffer {
  const bytes = [...HEADER_1MIB_WINDOW];
  for (let i = 0; i < blocks; i++) bytes.push(...blockHeader(i === blocks - 1, 1, size), 0x41);
  return Buffer.from(bytes);
}

/**
 * One compressed block whose literals section is RLE literals claiming `regenerated`
 * bytes, and no sequences: a 5-byte block that decodes to `regenerated` bytes, if the
 * decoder allows it.
 */
function rleLiteralsFrame(regenerated: number, header: number[] = HEADER_1MIB_WINDOW): Buffer {
  // Literals_Block_Type 1 (RLE), Size_Format 3 (20-bit size), then the byte; 0 sequences.
  const body = [1 | (3 << 2) | ((regenerated & 0xf) << 4), (regenerated >>> 4) & 0xff, (regenerated >>> 12) & 0xff, 0x41, 0x00];
  return Buffer.from([...header, ...blockHeader(true, 2, body.length), ...body]);
}

describe('zstd reading', () => {
  it("reads the frame Kafka's Java client (zstd-jni) wrote", async () => {
    expect((await decompress(ZSTD, KAFKA_ZSTD)).equals(pattern(150_000))).toBe(true);
  });

  it('reads the reference CLI frame with content size and checksum', async () => {
    expect((await decompress(ZSTD, ZSTD_CLI)).equals(pattern(150_000))).toBe(true);
  });

  it('reads RLE blocks', async () => {
    expect((await decompress(ZSTD, rleFrame(3, 100))).equals(Buffer.alloc(300, 0x41))).toBe(true);
  });

  it('skips skippable frames', async () => {
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    expect((await decompress(ZSTD, Buffer.concat([skippable, ZSTD_CLI]))).equals(pattern(150_000))).toBe(true);
  });

  it('reads concatenated frames as one stream', async () => {
    const out = await decompress(ZSTD, Buffer.concat([ZSTD_CLI, KAFKA_ZSTD]));
    expect(out.equals(Buffer.concat([pattern(150_000), pattern(150_000)]))).toBe(true);
  });

  it('rejects every truncation of a frame, which Node 24 zlib would decode short without complaint', async () => {
    for (let length = 0; length < KAFKA_ZSTD.length; length++) {
      await expect(decompress(ZSTD, KAFKA_ZSTD.subarray(0, length))).rejects.toBeInstanceOf(ProtocolError);
    }
  });

  it.each([
    ['bytes after the last frame', Buffer.concat([KAFKA_ZSTD, Buffer.from('trailing')]), /Not a zstd frame/],
    ['the reserved block type', Buffer.from([...HEADER_1MIB_WINDOW, ...blockHeader(true, 3, 0)]), /reserved block type/],
    ['the reserved header bit', Buffer.from([...MAGIC, 0x08, 0x50, ...blockHeader(true, 0, 0)]), /reserved bit/],
    ['a compressed block over the block maximum', Buffer.from([...HEADER_1MIB_WINDOW, ...blockHeader(true, 2, 131_073)]), /exceeds/],
  ])('rejects %s', async (_, input, message) => {
    await expect(decompress(ZSTD, input)).rejects.toThrow(message);
  });

  it('relies on the decoder to reject a compressed block that decodes past the block maximum', async () => {
    // The header walk counts these blocks as at most min(window, 128 KiB); libzstd must
    // refuse anything larger or the bound would not hold.
    await expect(decompress(ZSTD, rleLiteralsFrame(131_072))).resolves.toHaveLength(131_072);
    await expect(decompress(ZSTD, rleLiteralsFrame(131_073))).rejects.toBeInstanceOf(ProtocolError);
    const window1KiB = [...MAGIC, 0x00, 0x00];
    await expect(decompress(ZSTD, rleLiteralsFrame(1024, window1KiB))).resolves.toHaveLength(1024);
    await expect(decompress(ZSTD, rleLiteralsFrame(1025, window1KiB))).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('zstd output bound', () => {
  it('is exact for raw and RLE blocks', () => {
    expect(zstdOutputBound(rleFrame(3, 100))).toBe(300);
  });

  it('is within one block of the real size for frames from real compressors', async () => {
    for (const frame of [KAFKA_ZSTD, ZSTD_CLI, await compress(ZSTD, pattern(1_000_000))]) {
      const real = (await decompress(ZSTD, frame)).length;
      expect(zstdOutputBound(frame)).toBeGreaterThanOrEqual(real);
      expect(zstdOutputBound(frame)).toBeLessThanOrEqual(real + 128 * 1024);
    }
  });

  it('refuses a bomb from its headers alone, before decoding', async () => {
    // 4096 RLE blocks of 128 KiB: 16 KB of input, 512 MiB of output.
    const bomb = rleFrame(4096, 128 * 1024);
    expect(bomb.length).toBeLessThan(17_000);
    expect(zstdOutputBound(bomb)).toBe(512 * 1024 * 1024);
    const started = performance.now();
    await expect(decompress(ZSTD, bomb)).rejects.toBeInstanceOf(DecompressionLimitError);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('counts against the caller’s limit', async () => {
    await expect(decompress(ZSTD, rleFrame(3, 100), { maxOutputLength: 300 })).resolves.toHaveLength(300);
    await expect(decompress(ZSTD, rleFrame(3, 100), { maxOutputLength: 299 })).rejects.toBeInstanceOf(DecompressionLimitError);
  });
});

describe('zstd implementation choice', () => {
  /** A node:zlib lookalike that records what it was asked, doing the work through the package. */
  function fakeZlib(): ZlibZstd & { calls: string[]; limits: number[] } {
    const viaPackage = createCompressionCodecs({ zlibZstd: null });
    const calls: string[] = [];
    const limits: number[] = [];
    const settle = (work: Promise<Buffer>, callback: (error: Error | null, result: Buffer) => void): void => {
      work.then((out) => callback(null, out), (e: Error) => callback(e, Buffer.alloc(0)));
    };
    return {
      calls,
      limits,
      zstdCompress(data, callback) {
        calls.push('compress');
        settle(viaPackage.compress(ZSTD, data), callback);
      },
      zstdDecompress(data, options, callback) {
        calls.push('decompress');
        limits.push(options.maxOutputLength);
        settle(viaPackage.decompress(ZSTD, data, options), callback);
      },
    };
  }

  const noPackages = async (name: string): Promise<never> => {
    throw Object.assign(new Error(`Cannot find package '${name}' imported from here`), { code: 'ERR_MODULE_NOT_FOUND' });
  };

  it('prefers node:zlib when it has zstd, without importing the package', async () => {
    const zlib = fakeZlib();
    const imported: string[] = [];
    const codecs = createCompressionCodecs({ zlibZstd: zlib, importModule: (name) => (imported.push(name), noPackages(name)) });
    expect(await codecs.isCodecAvailable('zstd')).toBe(true);
    const out = await codecs.decompress(ZSTD, await codecs.compress(ZSTD, Buffer.from('via zlib')), { maxOutputLength: 1234 });
    expect(out.toString()).toBe('via zlib');
    expect(zlib.calls).toEqual(['compress', 'decompress']);
    expect(zlib.limits).toEqual([1234]);
    expect(imported).toEqual([]);
  });

  it("turns zlib's own limit error into a DecompressionLimitError", async () => {
    const zlib: ZlibZstd = {
      ...fakeZlib(),
      zstdDecompress: (_data, _options, callback) =>
        callback(Object.assign(new RangeError('Cannot create a Buffer larger than 5 bytes'), { code: 'ERR_BUFFER_TOO_LARGE' }), Buffer.alloc(0)),
    };
    const codecs = createCompressionCodecs({ zlibZstd: zlib });
    await expect(codecs.decompress(ZSTD, KAFKA_ZSTD, { maxOutputLength: 200_000 })).rejects.toBeInstanceOf(DecompressionLimitError);
  });

  it('falls back to @mongodb-js/zstd when zlib has no zstd', async () => {
    const imported: string[] = [];
    const codecs = createCompressionCodecs({ zlibZstd: null, importModule: (name) => (imported.push(name), import(name)) });
    expect((await codecs.decompress(ZSTD, KAFKA_ZSTD)).equals(pattern(150_000))).toBe(true);
    expect(imported).toEqual(['@mongodb-js/zstd']);
  });
});
