/**
 * Compression codec ids as they appear in bits 0-2 of a record batch's attributes.
 * zstd needs Produce v7+ (KIP-110); older versions get UNSUPPORTED_COMPRESSION_TYPE.
 */
export const CODEC_ID = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

export type CompressionName = keyof typeof CODEC_ID;

export const CODEC_NAME: Readonly<Record<number, CompressionName>> = {
  0: 'none',
  1: 'gzip',
  2: 'snappy',
  3: 'lz4',
  4: 'zstd',
};
