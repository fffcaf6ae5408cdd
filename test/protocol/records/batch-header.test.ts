/**
 * The batch header is written byte by byte at its offsets (batch-header.ts): checked here
 * against Node's range-checked Buffer writers, field by field, over each field's whole
 * range (negative sentinels, int64 producer ids either side of 2^31 and 2^32).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { restamp, writeBatchHeader, type BatchHeader } from '../../../src/protocol/records/batch-header.js';
import { crc32c } from '../../../src/protocol/records/crc32c.js';
import { CRC_START, RECORD_BATCH_OVERHEAD } from '../../../src/protocol/records/layout.js';

const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
/** What a JavaScript number holds exactly: -1 sentinels, offsets, millisecond timestamps. */
const int64Number = fc.oneof(fc.constantFrom(-1, 0, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Date.now()), fc.maxSafeInteger());
const producerId = fc.oneof(
  fc.constantFrom(-1n, 0n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n - 1n, -(2n ** 63n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  int64Number,
);

const header = fc.record<BatchHeader>({
  baseOffset: int64Number,
  partitionLeaderEpoch: int32,
  attributes: int16,
  lastOffsetDelta: int32,
  baseTimestamp: int64Number,
  maxTimestamp: int64Number,
  producerId,
  producerEpoch: int16,
  baseSequence: int32,
  recordCount: int32,
});

/** The header as Node's Buffer methods write it: the reference. */
function reference(h: BatchHeader, recordBytes: Buffer): Buffer {
  const b = Buffer.concat([Buffer.alloc(RECORD_BATCH_OVERHEAD), recordBytes]);
  b.writeBigInt64BE(BigInt(h.baseOffset), 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(h.partitionLeaderEpoch, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(h.attributes, 21);
  b.writeInt32BE(h.lastOffsetDelta, 23);
  b.writeBigInt64BE(BigInt(h.baseTimestamp), 27);
  b.writeBigInt64BE(BigInt(h.maxTimestamp), 35);
  b.writeBigInt64BE(BigInt(h.producerId), 43);
  b.writeInt16BE(h.producerEpoch, 51);
  b.writeInt32BE(h.baseSequence, 53);
  b.writeInt32BE(h.recordCount, 57);
  b.writeUInt32BE(crc32c(b, CRC_START), 17);
  return b;
}

describe('RecordBatch v2 header', () => {
  it('is written as the Buffer writers write each field, CRC included', () => {
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 40 }), (h, records) => {
        const expected = reference(h, Buffer.from(records));
        // Garbage where the header goes: every byte of it must be written.
        const batch = Buffer.concat([Buffer.alloc(RECORD_BATCH_OVERHEAD, 0xa5), Buffer.from(records)]);
        writeBatchHeader(batch, h);
        expect(batch.toString('hex')).toBe(expected.toString('hex'));
      }),
    );
  });

  it('is restamped as written afresh with the new producer id, epoch and sequence', () => {
    fc.assert(
      fc.property(header, producerId, int16, int32, (h, id, epoch, sequence) => {
        const batch = reference(h, Buffer.from('records'));
        restamp(batch, { producerId: id, producerEpoch: epoch, baseSequence: sequence });
        expect(batch.toString('hex')).toBe(reference({ ...h, producerId: id, producerEpoch: epoch, baseSequence: sequence }, Buffer.from('records')).toString('hex'));
      }),
    );
  });

  it('refuses a producer id beyond int64 and a buffer too short for the header', () => {
    const h: BatchHeader = { baseOffset: 0, partitionLeaderEpoch: -1, attributes: 0, lastOffsetDelta: 0, baseTimestamp: 0, maxTimestamp: 0, producerId: 2n ** 63n, producerEpoch: 0, baseSequence: 0, recordCount: 0 };
    expect(() => writeBatchHeader(Buffer.alloc(RECORD_BATCH_OVERHEAD), h)).toThrow(RangeError);
    expect(() => writeBatchHeader(Buffer.alloc(RECORD_BATCH_OVERHEAD - 1), { ...h, producerId: 1n })).toThrow(/cannot hold/);
  });
});
