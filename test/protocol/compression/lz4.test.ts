import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { CODEC_ID, compress, createCompressionCodecs, DecompressionLimitError, type CompressionCodecs, type ModuleImporter } from '../../../src/protocol/compression/index.js';
import { headerChecksum } from '../../../src/protocol/compression/lz4.js';
import { xxhash32 } from '../../../src/protocol/compression/xxhash32.js';
import { KAFKA_LZ4, LZ4_CLI_ALL_FLAGS, LZ4_CLI_LINKED, pattern } from './fixtures.js';

const LZ4 = CODEC_ID.lz4;
const MAGIC = Buffer.from('04224d18', 'hex');
const END_MARK = Buffer.alloc(4);

/** A frame with the given FLG/BD (and content size), a correct header checksum, and `body` after it. */
function frame(descriptor: number[], body: Buffer): Buffer {
  const d = Buffer.from(descriptor);
  return Buffer.concat([MAGIC, d, Buffer.from([headerChecksum(d)]), body]);
}

function block(data: Buffer, stored = false): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE((data.length | (stored ? 0x8000_0000 : 0)) >>> 0);
  return Buffer.concat([size, data]);
}

/** Each block's size word: [stored size, stored uncompressed?]. Assumes no optional fields. */
function blocksOf(frameBytes: Buffer): Array<[number, boolean]> {
  const blocks: Array<[number, boolean]> = [];
  for (let at = 7; ; ) {
    const word = frameBytes.readUInt32LE(at);
    at += 4;
    if (word === 0) return blocks;
    blocks.push([word & 0x7fff_ffff, word >>> 31 === 1]);
    at += word & 0x7fff_ffff;
  }
}

/** A copy of `bytes` with the low bit of byte `index` inverted. */
function flipBit(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy.readUInt8(index) ^ 1, index);
  return copy;
}

/** One compressed block holding 64 KiB of zeros, as raw block bytes (no size word). */
async function zerosBlock(): Promise<Buffer> {
  const f = await compress(LZ4, Buffer.alloc(65536));
  return f.subarray(7 + 4, f.length - 4);
}

/** An importer for a machine where `absent` is not installed (and everything else is). */
function without(absent: string): ModuleImporter {
  return async (name) => {
    if (name === absent) throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/x.js`), { code: 'ERR_MODULE_NOT_FOUND' });
    return import(name);
  };
}

// Every frame test runs with each way the optional packages may be installed: liblz4
// (package lz4) and lz4-napi write and read the same frames.
const BACKENDS: ReadonlyArray<readonly [string, CompressionCodecs]> = [
  ['lz4 and lz4-napi installed', createCompressionCodecs()],
  ['lz4 (liblz4) alone', createCompressionCodecs({ importModule: without('lz4-napi') })],
  ['lz4-napi alone', createCompressionCodecs({ importModule: without('lz4') })],
];

describe.each(BACKENDS)('%s', (_installed, { compress, decompress }) => {
  describe('lz4 frame writing', () => {
    it('writes exactly the 11 bytes Java writes for empty input', async () => {
      // magic, FLG 0x60, BD 0x40, HC 0x82, end mark
      expect((await compress(LZ4, Buffer.alloc(0))).toString('hex')).toBe('04224d18' + '60' + '40' + '82' + '00000000');
    });

    it("starts with the header Kafka's Lz4BlockOutputStream writes", async () => {
      const header = (await compress(LZ4, pattern(70_000))).subarray(0, 7);
      expect(header.toString('hex')).toBe('04224d18604082');
      expect(header.equals(KAFKA_LZ4.subarray(0, 7))).toBe(true);
    });

    it('FLG: version 01, independent blocks, no checksums, no content size, no dictionary', async () => {
      const flg = (await compress(LZ4, Buffer.from('x')))[4]!;
      expect(flg >>> 6).toBe(0b01);
      expect(flg & 0x20).toBe(0x20);
      expect(flg & 0b0001_1111).toBe(0);
    });

    it('BD: 64 KiB maximum block size', async () => {
      expect((await compress(LZ4, Buffer.from('x')))[5]).toBe(4 << 4);
    });

    it('header checksum is byte 1 of xxh32 over FLG..BD, as the lz4 reference CLI computes it', () => {
      // Independent of our writer: the CLI computed this checksum over a 10-byte descriptor
      // (FLG, BD, 8-byte content size) and we recompute it from those bytes.
      expect(headerChecksum(LZ4_CLI_ALL_FLAGS.subarray(4, 14))).toBe(LZ4_CLI_ALL_FLAGS[14]);
      expect((xxhash32(Buffer.from([0x60, 0x40])) >>> 8) & 0xff).toBe(0x82);
      // The pre-KIP-57 checksum also hashed the magic; it must not be what we write.
      expect((xxhash32(Buffer.from('04224d186040', 'hex')) >>> 8) & 0xff).not.toBe(0x82);
    });

    it('splits into the same blocks as Kafka: compressed or stored, block for block', async () => {
      expect(blocksOf(await compress(LZ4, pattern(70_000))).map(([, stored]) => stored)).toEqual(blocksOf(KAFKA_LZ4).map(([, stored]) => stored));
    });

    it('stores incompressible blocks uncompressed, with the high bit set', async () => {
      const input = randomBytes(65_537);
      const out = await compress(LZ4, input);
      expect(blocksOf(out)).toEqual([
        [65_536, true],
        [1, true],
      ]);
      expect(out.length).toBe(7 + 4 + 65_536 + 4 + 1 + 4);
      expect(out.subarray(11, 11 + 65_536).equals(input.subarray(0, 65_536))).toBe(true);
    });

    it('never writes a block holding more than 64 KiB', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 300_000 }), async (length) => {
          const blocks = blocksOf(await compress(LZ4, pattern(length)));
          expect(blocks.length).toBe(Math.ceil(length / 65_536));
          for (const [size] of blocks) expect(size).toBeLessThanOrEqual(65_536);
        }),
        { numRuns: 25 },
      );
    });
  });

  describe('lz4 frame reading', () => {
    it("reads the frame Kafka's Java client wrote", async () => {
      expect((await decompress(LZ4, KAFKA_LZ4)).equals(pattern(70_000))).toBe(true);
    });

    it('reads the reference CLI frame with block checksums, content size and content checksum', async () => {
      expect(LZ4_CLI_ALL_FLAGS[4]).toBe(0x7c);
      expect((await decompress(LZ4, LZ4_CLI_ALL_FLAGS)).equals(pattern(70_000))).toBe(true);
    });

    it('reads uncompressed blocks and larger block sizes', async () => {
      const data = randomBytes(300_000);
      const f = frame([0x60, 0x70], Buffer.concat([block(data, true), END_MARK]));
      expect((await decompress(LZ4, f)).equals(data)).toBe(true);
    });

    it('rejects linked blocks, as Kafka does', async () => {
      await expect(decompress(LZ4, LZ4_CLI_LINKED)).rejects.toThrow(/linked blocks/);
    });

    it.each([
      ['a dictionary id', [0x61, 0x40], /dictionary/],
      ['the reserved FLG bit', [0x62, 0x40], /reserved FLG bit/],
      ['version 00', [0x20, 0x40], /version 0/],
      ['version 10', [0xa0, 0x40], /version 2/],
      ['a reserved BD bit', [0x60, 0x41], /BD byte/],
      ['BD block size 3', [0x60, 0x30], /BD byte/],
    ])('rejects a frame with %s', async (_, descriptor, message) => {
      await expect(decompress(LZ4, frame(descriptor, END_MARK))).rejects.toThrow(message);
    });

    it('rejects a wrong header checksum, including the pre-KIP-57 one', async () => {
      const broken = Buffer.from(KAFKA_LZ4);
      broken[6] = (xxhash32(broken.subarray(0, 6)) >>> 8) & 0xff;
      await expect(decompress(LZ4, broken)).rejects.toThrow(/header checksum/);
    });

    it('rejects a wrong magic', async () => {
      const broken = Buffer.from(KAFKA_LZ4);
      broken[0] = 0x03;
      await expect(decompress(LZ4, broken)).rejects.toThrow(/Not an lz4 frame/);
    });

    it('rejects every truncation of a valid frame', async () => {
      for (let length = 0; length < KAFKA_LZ4.length; length++) {
        await expect(decompress(LZ4, KAFKA_LZ4.subarray(0, length))).rejects.toBeInstanceOf(ProtocolError);
      }
    });

    it('rejects bytes after the end mark instead of dropping them as Kafka would', async () => {
      await expect(decompress(LZ4, Buffer.concat([KAFKA_LZ4, KAFKA_LZ4]))).rejects.toThrow(/follow the lz4 frame/);
    });

    it('rejects a block checksum mismatch', async () => {
      const broken = flipBit(LZ4_CLI_ALL_FLAGS, 20); // inside the first block's data
      await expect(decompress(LZ4, broken)).rejects.toThrow(/block checksum/);
    });

    it('rejects a content checksum mismatch', async () => {
      const broken = flipBit(LZ4_CLI_ALL_FLAGS, LZ4_CLI_ALL_FLAGS.length - 1);
      await expect(decompress(LZ4, broken)).rejects.toThrow(/content checksum/);
    });

    it('rejects content that differs from the declared content size', async () => {
      const contentSize = Buffer.alloc(8);
      contentSize.writeBigUInt64LE(6n);
      const f = frame([0x68, 0x40, ...contentSize], Buffer.concat([block(Buffer.from('hello'), true), END_MARK]));
      await expect(decompress(LZ4, f)).rejects.toThrow(/declares 6 bytes/);
    });

    it("rejects a block larger than the frame's maximum block size", async () => {
      const f = frame([0x60, 0x40], Buffer.concat([block(Buffer.alloc(65_537), true), END_MARK]));
      await expect(decompress(LZ4, f)).rejects.toThrow(/exceeds/);
    });

    it('reports a corrupt block as a ProtocolError with the offset and the cause', async () => {
      const f = frame([0x60, 0x40], Buffer.concat([block(Buffer.from([0xf0, 0x01])), END_MARK]));
      const error = await decompress(LZ4, f).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).offset).toBe(11);
      expect((error as ProtocolError).cause).toBeDefined();
    });
  });

  describe('lz4 output bound', () => {
    it('allows output up to the limit and not a byte past it', async () => {
      await expect(decompress(LZ4, KAFKA_LZ4, { maxOutputLength: 70_000 })).resolves.toHaveLength(70_000);
      await expect(decompress(LZ4, KAFKA_LZ4, { maxOutputLength: 69_999 })).rejects.toBeInstanceOf(DecompressionLimitError);
    });

    it('stops a bomb after about one block past the limit', async () => {
      // 5000 blocks of 64 KiB of zeros: 327 MB of output from ~1.3 MB of input.
      const zeros = await zerosBlock();
      const bomb = frame([0x60, 0x40], Buffer.concat([...Array.from({ length: 5000 }, () => block(zeros)), END_MARK]));
      const started = performance.now();
      const error = await decompress(LZ4, bomb, { maxOutputLength: 1024 * 1024 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DecompressionLimitError);
      expect((error as DecompressionLimitError).code).toBe('KAFKA_WIRE_DECOMPRESSION_LIMIT');
      expect((error as DecompressionLimitError).limit).toBe(1024 * 1024);
      // Decoding all 5000 blocks would take far longer than the ~17 needed to pass 1 MiB.
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('rejects a declared content size over the limit before decoding', async () => {
      await expect(decompress(LZ4, LZ4_CLI_ALL_FLAGS, { maxOutputLength: 69_999 })).rejects.toBeInstanceOf(DecompressionLimitError);
    });
  });
});

describe('which lz4 package does the work', () => {
  /** The real `lz4` package, its block compressor counted. */
  function countingLiblz4(): { importModule: ModuleImporter; blocks: () => number } {
    let blocks = 0;
    const importModule: ModuleImporter = async (name) => {
      const module = (await import(name)) as Record<string, unknown> & { default?: Record<string, unknown> };
      if (name !== 'lz4') return module;
      const real = (module.default ?? module) as { encodeBlock: (...args: unknown[]) => number; decodeBlock: unknown };
      return { encodeBlock: (...args: unknown[]) => (blocks++, real.encodeBlock(...args)), decodeBlock: real.decodeBlock };
    };
    return { importModule, blocks: () => blocks };
  }

  it('compresses with liblz4 when it loads, and with lz4-napi above the sync limit (its thread pool)', async () => {
    const { importModule, blocks } = countingLiblz4();
    const codecs = createCompressionCodecs({ importModule });
    const small = pattern(150_000);
    expect((await codecs.decompress(LZ4, await codecs.compress(LZ4, small))).equals(small)).toBe(true);
    expect(blocks()).toBe(3);
    const sync = codecs.compressSync(LZ4, small)!;
    expect(blocks()).toBe(6);
    expect((await codecs.decompress(LZ4, sync)).equals(small)).toBe(true);
    const big = pattern(1024 * 1024 + 1);
    expect((await codecs.decompress(LZ4, await codecs.compress(LZ4, big))).equals(big)).toBe(true);
    expect(blocks()).toBe(6);
  });

  it('reads with either package what the other wrote', async () => {
    const liblz4 = createCompressionCodecs({ importModule: without('lz4-napi') });
    const napi = createCompressionCodecs({ importModule: without('lz4') });
    const input = Buffer.concat([pattern(100_000), randomBytes(70_000), Buffer.alloc(30_000)]);
    expect((await napi.decompress(LZ4, await liblz4.compress(LZ4, input))).equals(input)).toBe(true);
    expect((await liblz4.decompress(LZ4, await napi.compress(LZ4, input))).equals(input)).toBe(true);
  });

  it('stores a 1-byte block as it is, as Java does', async () => {
    for (const [, codecs] of BACKENDS) expect(blocksOf(await codecs.compress(LZ4, Buffer.from('x')))).toEqual([[1, true]]);
  });
});
