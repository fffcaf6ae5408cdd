import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { CODEC_ID } from '../../../src/protocol/compression/codecs.js';
import { restamp } from '../../../src/protocol/records/batch-header.js';
import { encodeRecordBatch } from '../../../src/protocol/records/builder.js';
import { compressBatch, compressBatchSync } from '../../../src/protocol/records/compress-batch.js';
import { decodeRecordBatches } from '../../../src/protocol/records/decode.js';
import { compressGzip, decompressGzip, referenceCrc32c } from './helpers.js';

const records = Array.from({ length: 50 }, (_, i) => ({ key: `key-${i}`, value: 'the same value, again and again', timestamp: 1000 + i }));

describe('compressBatch', () => {
  it('compresses the records section as one block', async () => {
    const plain = encodeRecordBatch(records);
    let given: Buffer | undefined;
    const compressed = await compressBatch(plain, CODEC_ID.gzip, async (codecId, data) => {
      given = Buffer.from(data);
      return compressGzip(codecId, data);
    });
    expect(given!.equals(plain.subarray(61))).toBe(true);
    expect(compressed.length).toBeLessThan(plain.length);
    expect((await decompressGzip(1, compressed.subarray(61))).equals(plain.subarray(61))).toBe(true);
  });

  it('returns the batch itself for codec none, and refuses unknown codecs and compressed input', async () => {
    const plain = encodeRecordBatch(records);
    expect(await compressBatch(plain, CODEC_ID.none, compressGzip)).toBe(plain);
    await expect(compressBatch(plain, 7, compressGzip)).rejects.toThrow(RangeError);
    const once = await compressBatch(plain, CODEC_ID.gzip, compressGzip);
    await expect(compressBatch(once, CODEC_ID.gzip, compressGzip)).rejects.toThrow(/already compressed/);
    await expect(compressBatch(plain.subarray(0, 70), CODEC_ID.gzip, compressGzip)).rejects.toThrow(ProtocolError);
  });

  it('compressBatchSync writes what compressBatch writes, and leaves the batch alone when the compressor cannot', async () => {
    const plain = encodeRecordBatch(records);
    const gzipped = await compressGzip(CODEC_ID.gzip, plain.subarray(61));
    const sync = compressBatchSync(plain, CODEC_ID.gzip, () => gzipped);
    expect(sync!.equals(await compressBatch(plain, CODEC_ID.gzip, async () => gzipped))).toBe(true);
    const before = Buffer.from(plain);
    expect(compressBatchSync(plain, CODEC_ID.gzip, () => undefined)).toBeUndefined();
    expect(plain.equals(before)).toBe(true);
    expect(compressBatchSync(plain, CODEC_ID.none, () => undefined)).toBe(plain);
    expect(() => compressBatchSync(sync!, CODEC_ID.gzip, () => gzipped)).toThrow(/already compressed/);
  });

  it('leaves a batch that restamp can re-stamp', async () => {
    const compressed = await compressBatch(
      encodeRecordBatch(records, { producerId: 1, producerEpoch: 0, baseSequence: 0 }),
      CODEC_ID.gzip,
      compressGzip,
    );
    restamp(compressed, { producerId: 1, producerEpoch: 1, baseSequence: 0 });
    expect(compressed.readUInt32BE(17)).toBe(referenceCrc32c(compressed.subarray(21)));
    const { batches } = await decodeRecordBatches(compressed, { decompress: decompressGzip });
    expect(batches[0]).toMatchObject({ producerEpoch: 1, attributes: { compression: 'gzip' } });
    expect(batches[0]!.records.map((r) => r.key!.toString())).toEqual(records.map((r) => r.key));
  });
});
