import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { CODEC_ID, compress, decompress, DecompressionLimitError, DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../../src/protocol/compression/index.js';
import { KAFKA_GZIP, pattern } from './fixtures.js';

const GZIP = CODEC_ID.gzip;

describe('gzip', () => {
  it('writes a standard gzip stream (RFC 1952 magic, deflate)', async () => {
    const out = await compress(GZIP, Buffer.from('kafka'));
    expect(out.subarray(0, 3).toString('hex')).toBe('1f8b08');
    expect(gunzipSync(out).toString()).toBe('kafka');
  });

  it("reads the stream Kafka's Java client wrote", async () => {
    expect((await decompress(GZIP, KAFKA_GZIP)).equals(pattern(70_000))).toBe(true);
  });

  it('reads concatenated members as one stream, as Java does', async () => {
    const stream = Buffer.concat([gzipSync('one,'), gzipSync('two')]);
    expect((await decompress(GZIP, stream)).toString()).toBe('one,two');
  });

  it.each([
    ['empty input', Buffer.alloc(0)],
    ['a truncated stream', KAFKA_GZIP.subarray(0, KAFKA_GZIP.length - 10)],
    ['not gzip at all', Buffer.from('definitely not gzip')],
  ])('rejects %s as a ProtocolError', async (_, input) => {
    await expect(decompress(GZIP, input)).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('gzip output bound', () => {
  it('allows output up to the limit and not a byte past it', async () => {
    await expect(decompress(GZIP, KAFKA_GZIP, { maxOutputLength: 70_000 })).resolves.toHaveLength(70_000);
    await expect(decompress(GZIP, KAFKA_GZIP, { maxOutputLength: 69_999 })).rejects.toBeInstanceOf(DecompressionLimitError);
  });

  it('stops a zip bomb at the default limit with a typed error', async () => {
    // 300 members of 1 MiB of zeros: 300 MiB from about 300 KB.
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 300 }, () => member));
    expect(bomb.length).toBeLessThan(400_000);
    const error = await decompress(GZIP, bomb).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecompressionLimitError);
    expect(error).toMatchObject({ code: 'KAFKA_WIRE_DECOMPRESSION_LIMIT', codec: 'gzip', limit: DEFAULT_MAX_DECOMPRESSED_BYTES });
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(256 * 1024 * 1024);
  }, 20_000);
});
