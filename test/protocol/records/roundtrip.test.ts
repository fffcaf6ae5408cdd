import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODEC_ID } from '../../../src/protocol/compression/codecs.js';
import { encodeRecordBatch, RecordBatchBuilder, sizeOfRecordBatch } from '../../../src/protocol/records/builder.js';
import { compressBatch } from '../../../src/protocol/records/compress-batch.js';
import { decodeRecordBatches, decodeRecordBatchesSync } from '../../../src/protocol/records/decode.js';
import { sizeOfRecord } from '../../../src/protocol/records/record.js';
import { arbRecords } from './arbitraries.js';
import { comparable, compressGzip, decompressGzip, expectedRecord, referenceCrc32c } from './helpers.js';

describe('encode then decode', () => {
  it('gives back every record, and the size predicted is the size written', () => {
    fc.assert(
      fc.property(arbRecords, ({ records, timestamp }) => {
        const batch = encodeRecordBatch(records, { timestamp, producerId: 12n, producerEpoch: 3, baseSequence: 40 });
        expect(batch.length).toBe(sizeOfRecordBatch(records, timestamp));

        const { batches, truncated } = decodeRecordBatchesSync(batch);
        expect(truncated).toBe(false);
        expect(batches).toHaveLength(1);
        const decoded = batches[0]!;
        expect(comparable(decoded.records)).toEqual(comparable(records.map((r, i) => expectedRecord(r, i, timestamp))));

        const timestamps = records.map((r) => r.timestamp ?? timestamp);
        expect(decoded).toMatchObject({
          baseOffset: 0n,
          batchLength: batch.length - 12,
          partitionLeaderEpoch: -1,
          magic: 2,
          crc: referenceCrc32c(batch.subarray(21)),
          lastOffsetDelta: records.length - 1,
          baseTimestamp: timestamps[0] ?? -1,
          maxTimestamp: timestamps.length > 0 ? Math.max(...timestamps) : -1,
          producerId: 12n,
          producerEpoch: 3,
          baseSequence: 40,
          attributes: { compression: 'none', timestampType: 'CreateTime', transactional: false, control: false, hasDeleteHorizon: false },
        });
      }),
      { numRuns: 300 },
    );
  });

  it('sizes each record as it is written, wherever it sits in the batch', () => {
    fc.assert(
      fc.property(arbRecords, ({ records, timestamp }) => {
        const builder = new RecordBatchBuilder(Buffer.alloc(sizeOfRecordBatch(records, timestamp)), { clock: () => timestamp });
        const base = records[0]?.timestamp ?? timestamp;
        records.forEach((r, i) => {
          const before = builder.sizeInBytes;
          builder.append(r);
          expect(builder.sizeInBytes - before).toBe(sizeOfRecord(r, (r.timestamp ?? timestamp) - base, i));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('survives gzip compression of the records section', async () => {
    await fc.assert(
      fc.asyncProperty(arbRecords, async ({ records, timestamp }) => {
        const plain = encodeRecordBatch(records, { timestamp, producerId: 5, producerEpoch: 1, baseSequence: 9, transactional: true });
        const compressed = await compressBatch(plain, CODEC_ID.gzip, compressGzip);

        // Only the codec bits, batchLength and CRC change in the header.
        expect(compressed.subarray(0, 8).equals(plain.subarray(0, 8))).toBe(true);
        expect(compressed.readInt32BE(8)).toBe(compressed.length - 12);
        expect(compressed.subarray(12, 17).equals(plain.subarray(12, 17))).toBe(true);
        expect(compressed.readInt16BE(21)).toBe(plain.readInt16BE(21) | CODEC_ID.gzip);
        expect(compressed.subarray(23, 61).equals(plain.subarray(23, 61))).toBe(true);
        expect(compressed.readUInt32BE(17)).toBe(referenceCrc32c(compressed.subarray(21)));

        const { batches } = await decodeRecordBatches(compressed, { decompress: decompressGzip });
        const [fromPlain] = decodeRecordBatchesSync(plain).batches;
        const [fromCompressed] = batches;
        expect(fromCompressed!.attributes.compression).toBe('gzip');
        expect(comparable(fromCompressed!.records)).toEqual(comparable(fromPlain!.records));
        expect({ ...fromCompressed!, records: [], attributes: null, batchLength: 0, crc: 0 }).toEqual({
          ...fromPlain!,
          records: [],
          attributes: null,
          batchLength: 0,
          crc: 0,
        });
      }),
      { numRuns: 60 },
    );
  });
});
