/**
 * Record-batch compression: the codecs behind bits 0-2 of a batch's attributes, producing
 * and reading the exact bytes Kafka's Java client does.
 *
 * | id | codec  | format                                   | implementation                     |
 * |----|--------|------------------------------------------|------------------------------------|
 * | 0  | none   | bytes as they are                        |                                    |
 * | 1  | gzip   | gzip stream                              | node:zlib                          |
 * | 2  | snappy | xerial framing, 32 KiB blocks            | optional package `snappy`          |
 * | 3  | lz4    | LZ4 frame, 64 KiB independent blocks     | optional packages `lz4` (liblz4,   |
 * |    |        |                                          | preferred) and `lz4-napi`          |
 * | 4  | zstd   | zstd frame                               | node:zlib (Node >= 22.15), else    |
 * |    |        |                                          | optional package `@mongodb-js/zstd`|
 *
 * none and gzip need nothing beyond Node. Each optional package is imported the first
 * time its codec is used; when it is absent the call fails with a MissingCodecError that
 * says what to install. All work that the libraries can do off the main thread runs on
 * the libuv thread pool; only framing (headers, checksums) is done in JavaScript.
 *
 * Every decompress is bounded by `maxOutputLength` (default 256 MiB), so malicious or
 * corrupt input fails with a DecompressionLimitError instead of exhausting memory.
 */
import { CODEC_NAME, type CompressionName } from './codecs.js';
import { UnsupportedCodecError } from './errors.js';
import { gzipCompress, gzipDecompress } from './gzip.js';
import { checkOutputSize, FAST_CODEC_SYNC_COMPRESS_LIMIT, outputLimit, type DecompressOptions } from './limits.js';
import { OptionalPackages, type ModuleImporter } from './loader.js';
import { LZ4_BLOCK_PACKAGE, LZ4_PACKAGE, lz4Compress, lz4CompressBlocks, lz4CompressSync, lz4Decompress, type Lz4Api, type Lz4BlockApi } from './lz4.js';
import { SNAPPY_PACKAGE, snappyCompress, snappyCompressSync, snappyDecompress } from './snappy.js';
import { packageBackend, ZSTD_PACKAGE, zlibBackend, zlibZstd, zstdCompress, zstdDecompress, type ZlibZstd, type ZstdBackend } from './zstd.js';

export { CODEC_ID, CODEC_NAME, type CompressionName } from './codecs.js';
export { DecompressionLimitError, MissingCodecError, UnsupportedCodecError } from './errors.js';
export { DEFAULT_MAX_DECOMPRESSED_BYTES, type DecompressOptions } from './limits.js';
export type { ModuleImporter } from './loader.js';
export type { ZlibZstd } from './zstd.js';

export interface CompressionCodecs {
  /**
   * Compresses a batch's records section with the codec `codecId` names. For codec 0
   * (none) returns `data` itself, not a copy.
   */
  compress(codecId: number, data: Buffer): Promise<Buffer>;
  /**
   * compress on the calling thread, when that is how compress would do it anyway: none,
   * and lz4 or snappy up to 1 MiB once their package is loaded. Undefined otherwise (gzip
   * and zstd, a bigger input, a package not loaded yet): call compress.
   */
  compressSync(codecId: number, data: Buffer): Buffer | undefined;
  /** The inverse of compress, for data from any Kafka client; see DecompressOptions for the output bound. */
  decompress(codecId: number, data: Buffer, options?: DecompressOptions): Promise<Buffer>;
  /**
   * Whether `name` can be used here: its package loads (this imports it, if not done
   * yet). Resolves, never rejects; for the reason a codec is missing, call compress.
   */
  isCodecAvailable(name: CompressionName): Promise<boolean>;
}

/** Where the codecs get their implementations; tests substitute them. */
export interface CodecSources {
  /** Imports optional packages by name; `import()` unless given. */
  importModule?: ModuleImporter;
  /** zstd from node:zlib; null to never use it. Defaults to this Node's, if it has one. */
  zlibZstd?: ZlibZstd | null;
}

/**
 * A set of codecs with its own package cache. The module-level compress, decompress and
 * isCodecAvailable share one; this is for tests and for embedders that load packages
 * their own way.
 */
export function createCompressionCodecs(sources: CodecSources = {}): CompressionCodecs {
  const packages = new OptionalPackages(sources.importModule);
  const zlib = sources.zlibZstd === undefined ? zlibZstd() : (sources.zlibZstd ?? undefined);
  let zstdBackend: Promise<ZstdBackend> | undefined;
  const zstd = (): Promise<ZstdBackend> =>
    (zstdBackend ??= zlib !== undefined ? Promise.resolve(zlibBackend(zlib)) : packages.load(ZSTD_PACKAGE).then(packageBackend));
  const optional = <Api>(loading: Promise<Api>): Promise<Api | undefined> => loading.catch(() => undefined);

  /**
   * lz4 compresses with liblz4 (package `lz4`) when it loads, up to the sync limit; above
   * it, and when only lz4-napi loads, through lz4-napi. A missing lz4-napi is an error
   * only when liblz4 is missing too, and then it names lz4-napi, the one we ship with.
   */
  async function lz4Compressed(data: Buffer): Promise<Buffer> {
    const block = await optional(packages.load(LZ4_BLOCK_PACKAGE));
    if (block && data.length <= FAST_CODEC_SYNC_COMPRESS_LIMIT) return lz4CompressBlocks(block, data);
    const napi = block ? await optional(packages.load(LZ4_PACKAGE)) : await packages.load(LZ4_PACKAGE);
    return napi ? lz4Compress(napi, data) : lz4CompressBlocks(block!, data);
  }

  /** lz4-napi decodes on the thread pool, so it goes first; liblz4, on this thread, when it alone loads. */
  async function lz4Decoder(): Promise<Lz4Api | Lz4BlockApi> {
    const napi = packages.load(LZ4_PACKAGE);
    return (await optional(napi)) ?? (await optional(packages.load(LZ4_BLOCK_PACKAGE))) ?? napi;
  }

  return {
    async compress(codecId, data) {
      switch (codecName(codecId)) {
        case 'none':
          return data;
        case 'gzip':
          return gzipCompress(data);
        case 'snappy':
          return snappyCompress(await packages.load(SNAPPY_PACKAGE), data);
        case 'lz4':
          return lz4Compressed(data);
        case 'zstd':
          return zstdCompress(await zstd(), data);
      }
    },

    compressSync(codecId, data) {
      switch (codecName(codecId)) {
        case 'none':
          return data;
        case 'snappy': {
          const snappy = packages.ready(SNAPPY_PACKAGE);
          return snappy && snappyCompressSync(snappy, data);
        }
        case 'lz4': {
          const block = packages.ready(LZ4_BLOCK_PACKAGE);
          if (block && data.length <= FAST_CODEC_SYNC_COMPRESS_LIMIT) return lz4CompressBlocks(block, data);
          const napi = packages.ready(LZ4_PACKAGE);
          return napi && lz4CompressSync(napi, data);
        }
        default:
          return undefined;
      }
    },

    async decompress(codecId, data, options) {
      const name = codecName(codecId);
      const limit = outputLimit(options);
      switch (name) {
        case 'none':
          // Nothing to expand, but callers can rely on the bound holding for every codec.
          checkOutputSize(name, data.length, limit);
          return data;
        case 'gzip':
          return gzipDecompress(data, limit);
        case 'snappy':
          return snappyDecompress(await packages.load(SNAPPY_PACKAGE), data, limit);
        case 'lz4':
          return lz4Decompress(await lz4Decoder(), data, limit);
        case 'zstd':
          return zstdDecompress(await zstd(), data, limit);
      }
    },

    async isCodecAvailable(name) {
      switch (name) {
        case 'none':
        case 'gzip':
          return true;
        case 'snappy':
          return packages.isAvailable(SNAPPY_PACKAGE);
        case 'lz4':
          return (await packages.isAvailable(LZ4_BLOCK_PACKAGE)) || packages.isAvailable(LZ4_PACKAGE);
        case 'zstd':
          return zlib !== undefined || packages.isAvailable(ZSTD_PACKAGE);
        default:
          return false;
      }
    },
  };
}

function codecName(codecId: number): CompressionName {
  const name = Number.isInteger(codecId) ? CODEC_NAME[codecId] : undefined;
  if (name === undefined) throw new UnsupportedCodecError(codecId);
  return name;
}

const shared = createCompressionCodecs();

/** Compresses `data` with codec `codecId` (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export const compress: CompressionCodecs['compress'] = shared.compress;
/** compress on the calling thread where compress would do the same; undefined where it cannot (see CompressionCodecs). */
export const compressSync: CompressionCodecs['compressSync'] = shared.compressSync;
/** Decompresses `data` written with codec `codecId`, producing at most `options.maxOutputLength` bytes. */
export const decompress: CompressionCodecs['decompress'] = shared.decompress;
/** Whether codec `name` works in this process (its optional package, if any, loads). */
export const isCodecAvailable: CompressionCodecs['isCodecAvailable'] = shared.isCodecAvailable;
