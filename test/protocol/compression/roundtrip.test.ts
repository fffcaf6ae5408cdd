import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODEC_ID, compress, createCompressionCodecs, decompress, type CompressionName } from '../../../src/protocol/compression/index.js';
import { zlibZstd } from '../../../src/protocol/compression/zstd.js';

const CODECS = Object.keys(CODEC_ID) as CompressionName[];

/** Text-like records: compresses well, but not to nothing. */
const compressible = (length: number): Buffer => {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < length; i++) {
    const line = `{"offset":${i},"key":"user-${i % 97}","value":"event ${i * 7919 % 1000}"}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, length);
};

// Sizes at the block boundaries of each format: snappy 32 KiB, lz4 64 KiB, zstd 128 KiB.
const FIXED_INPUTS: ReadonlyArray<readonly [string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['1 byte', Buffer.from([0xa5])],
  ['100 KB compressible', compressible(100_000)],
  ['100 KB incompressible', randomBytes(100_000)],
  ['32 KiB + 1 random', randomBytes(32 * 1024 + 1)],
  ['64 KiB exactly, compressible', compressible(64 * 1024)],
  ['64 KiB + 1 compressible', compressible(64 * 1024 + 1)],
  ['128 KiB + 1 compressible', compressible(128 * 1024 + 1)],
  ['1 MiB of one byte', Buffer.alloc(1024 * 1024, 7)],
];

/** Arbitrary bytes, mostly incompressible. */
const arbitraryBytes = fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes));
/** A short random unit repeated: compressible, and up to ~200 KB, so it spans several blocks. */
const repetitiveBytes = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 3200 }))
  .map(([unit, times]) => Buffer.concat(Array.from({ length: times }, () => unit)));

describe.each(CODECS)('%s round trip', (name) => {
  const id = CODEC_ID[name];

  it.each(FIXED_INPUTS)('%s', async (_, input) => {
    const compressed = await compress(id, input);
    const output = await decompress(id, compressed);
    expect(output.equals(input)).toBe(true);
  });

  it('any bytes', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryBytes, async (input) => {
        expect((await decompress(id, await compress(id, input))).equals(input)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('repetitive bytes spanning several blocks', async () => {
    await fc.assert(
      fc.asyncProperty(repetitiveBytes, async (input) => {
        expect((await decompress(id, await compress(id, input))).equals(input)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves the input buffer untouched', async () => {
    const input = compressible(70_000);
    const copy = Buffer.from(input);
    await decompress(id, await compress(id, input));
    expect(input.equals(copy)).toBe(true);
  });
});

describe('zstd through each backend', () => {
  const viaPackage = createCompressionCodecs({ zlibZstd: null });
  const zlib = zlibZstd();

  it('through @mongodb-js/zstd', async () => {
    for (const [, input] of FIXED_INPUTS) {
      expect((await viaPackage.decompress(CODEC_ID.zstd, await viaPackage.compress(CODEC_ID.zstd, input))).equals(input)).toBe(true);
    }
  });

  // Node 20 has no zstd in zlib; run the suite on Node >= 22.15 to cover this.
  it.runIf(zlib !== undefined)('through node:zlib, and each reads the other', async () => {
    const viaZlib = createCompressionCodecs({ zlibZstd: zlib });
    for (const [, input] of FIXED_INPUTS) {
      const fromZlib = await viaZlib.compress(CODEC_ID.zstd, input);
      const fromPackage = await viaPackage.compress(CODEC_ID.zstd, input);
      expect((await viaPackage.decompress(CODEC_ID.zstd, fromZlib)).equals(input)).toBe(true);
      expect((await viaZlib.decompress(CODEC_ID.zstd, fromPackage)).equals(input)).toBe(true);
    }
  });
});
