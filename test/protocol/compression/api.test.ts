import { constants as bufferConstants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { ConfigError, KafkaWireError } from '../../../src/errors.js';
import {
  CODEC_ID,
  compress,
  createCompressionCodecs,
  decompress,
  DecompressionLimitError,
  isCodecAvailable,
  MissingCodecError,
  UnsupportedCodecError,
  type CompressionName,
  type ModuleImporter,
} from '../../../src/protocol/compression/index.js';

const NAMES = Object.keys(CODEC_ID) as CompressionName[];

/** An importer for a machine where no optional package is installed, counting its calls. */
function absentPackages(): ModuleImporter & { calls: string[] } {
  const calls: string[] = [];
  const importer = async (name: string): Promise<never> => {
    calls.push(name);
    // What Node's ESM loader throws for a package that is not in node_modules.
    throw Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/kafka-wire/dist/protocol/compression/loader.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  };
  return Object.assign(importer, { calls });
}

describe('codec ids', () => {
  it.each([5, 6, 7, -1, 1.5, Number.NaN])('rejects id %d with UnsupportedCodecError', async (id) => {
    for (const call of [() => compress(id, Buffer.from('x')), () => decompress(id, Buffer.from('x'))]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedCodecError);
      expect(error).toBeInstanceOf(KafkaWireError);
      expect(error).toMatchObject({ code: 'KAFKA_WIRE_UNSUPPORTED_CODEC', codecId: id, retriable: false });
    }
  });

  it('passes data through unchanged for codec 0', async () => {
    const data = Buffer.from('as is');
    expect(await compress(CODEC_ID.none, data)).toBe(data);
    expect(await decompress(CODEC_ID.none, data)).toBe(data);
  });

  it('holds codec 0 to the output limit too', async () => {
    await expect(decompress(CODEC_ID.none, Buffer.alloc(10), { maxOutputLength: 9 })).rejects.toBeInstanceOf(DecompressionLimitError);
  });
});

describe('maxOutputLength', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, bufferConstants.MAX_LENGTH + 1])('rejects %d with ConfigError', async (limit) => {
    for (const id of Object.values(CODEC_ID)) {
      await expect(decompress(id, Buffer.alloc(0), { maxOutputLength: limit })).rejects.toBeInstanceOf(ConfigError);
    }
  });
});

describe('optional packages', () => {
  it.each([
    ['snappy', 'snappy compression needs the optional package snappy: npm install snappy', 'snappy'],
    ['lz4', 'lz4 compression needs the optional package lz4-napi: npm install lz4-napi', 'lz4-napi'],
    [
      'zstd',
      'zstd compression needs the optional package @mongodb-js/zstd: npm install @mongodb-js/zstd@^1.2.2 (or run on Node.js 22.15 or later, whose zlib has zstd)',
      '@mongodb-js/zstd',
    ],
  ] as const)('a missing %s package is a MissingCodecError naming it', async (name, message, packageName) => {
    const codecs = createCompressionCodecs({ importModule: absentPackages(), zlibZstd: null });
    for (const call of [() => codecs.compress(CODEC_ID[name], Buffer.from('x')), () => codecs.decompress(CODEC_ID[name], Buffer.from('x'))]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MissingCodecError);
      expect(error).toBeInstanceOf(KafkaWireError);
      expect(error).toMatchObject({ message, code: 'KAFKA_WIRE_MISSING_CODEC', codec: name, packageName, retriable: false });
      expect((error as Error).cause).toBeDefined();
    }
  });

  it('needs no package for none and gzip', async () => {
    const importer = absentPackages();
    const codecs = createCompressionCodecs({ importModule: importer, zlibZstd: null });
    for (const id of [CODEC_ID.none, CODEC_ID.gzip]) {
      expect((await codecs.decompress(id, await codecs.compress(id, Buffer.from('plain')))).toString()).toBe('plain');
    }
    expect(importer.calls).toEqual([]);
  });

  it('says when a package is installed but does not load, with the reason', async () => {
    const codecs = createCompressionCodecs({
      importModule: async () => {
        throw new Error('Cannot find native binding. npm has a bug related to optional dependencies');
      },
    });
    const error = await codecs.compress(CODEC_ID.lz4, Buffer.from('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingCodecError);
    expect((error as Error).message).toBe(
      'lz4 compression needs the optional package lz4-napi: npm install lz4-napi (it is installed but failed to load: Cannot find native binding. npm has a bug related to optional dependencies)',
    );
  });

  it('says when the installed version lacks the functions it calls', async () => {
    const codecs = createCompressionCodecs({ importModule: async () => ({ default: { somethingElse: () => 0 } }) });
    await expect(codecs.compress(CODEC_ID.snappy, Buffer.from('x'))).rejects.toThrow(/snappy: npm install snappy \(the installed version does not export/);
  });

  it('finds the functions on a CommonJS default export', async () => {
    const codecs = createCompressionCodecs({ importModule: async (name) => ({ default: await import(name) }) });
    expect((await codecs.decompress(CODEC_ID.lz4, await codecs.compress(CODEC_ID.lz4, Buffer.from('cjs')))).toString()).toBe('cjs');
  });

  it('imports each package once, however many calls, concurrent or not', async () => {
    const calls: string[] = [];
    const codecs = createCompressionCodecs({ importModule: (name) => (calls.push(name), import(name)), zlibZstd: null });
    await Promise.all(Array.from({ length: 5 }, () => codecs.compress(CODEC_ID.snappy, Buffer.from('x'))));
    await codecs.decompress(CODEC_ID.snappy, await codecs.compress(CODEC_ID.snappy, Buffer.from('y')));
    await codecs.isCodecAvailable('snappy');
    expect(calls).toEqual(['snappy']);
  });

  it('remembers a failed import instead of retrying on every call', async () => {
    const importer = absentPackages();
    const codecs = createCompressionCodecs({ importModule: importer });
    for (let i = 0; i < 3; i++) await expect(codecs.compress(CODEC_ID.lz4, Buffer.from('x'))).rejects.toBeInstanceOf(MissingCodecError);
    expect(importer.calls).toEqual(['lz4', 'lz4-napi']);
  });
});

describe('isCodecAvailable', () => {
  it('is true for every codec when the optional packages are installed', async () => {
    for (const name of NAMES) expect(await isCodecAvailable(name)).toBe(true);
  });

  it('is false for codecs whose package is missing, and never throws', async () => {
    const codecs = createCompressionCodecs({ importModule: absentPackages(), zlibZstd: null });
    const available = Object.fromEntries(await Promise.all(NAMES.map(async (name) => [name, await codecs.isCodecAvailable(name)])));
    expect(available).toEqual({ none: true, gzip: true, snappy: false, lz4: false, zstd: false });
  });

  it('is false for a name Kafka does not define', async () => {
    expect(await isCodecAvailable('brotli' as CompressionName)).toBe(false);
  });
});

describe('compressSync', () => {
  const data = Buffer.from('a value that repeats, a value that repeats, a value that repeats '.repeat(2000));

  it('writes the bytes compress writes, for lz4 and snappy once their package is loaded', async () => {
    const codecs = createCompressionCodecs();
    expect(codecs.compressSync(CODEC_ID.none, data)).toBe(data);
    for (const name of ['lz4', 'snappy'] as const) {
      expect(codecs.compressSync(CODEC_ID[name], data), `${name} before its package is loaded`).toBeUndefined();
      const async = await codecs.compress(CODEC_ID[name], data);
      expect(codecs.compressSync(CODEC_ID[name], data)?.equals(async), name).toBe(true);
    }
  });

  it('leaves to compress what it does on the thread pool: gzip, zstd, lz4 and snappy over 1 MiB', async () => {
    const codecs = createCompressionCodecs();
    for (const name of ['gzip', 'zstd', 'lz4', 'snappy'] as const) await codecs.compress(CODEC_ID[name], data);
    expect(codecs.compressSync(CODEC_ID.gzip, data)).toBeUndefined();
    expect(codecs.compressSync(CODEC_ID.zstd, data)).toBeUndefined();
    const big = Buffer.alloc(1024 * 1024 + 1, 7);
    expect(codecs.compressSync(CODEC_ID.lz4, big)).toBeUndefined();
    expect(codecs.compressSync(CODEC_ID.snappy, big)).toBeUndefined();
    expect(() => codecs.compressSync(9, data)).toThrow(UnsupportedCodecError);
  });
});
