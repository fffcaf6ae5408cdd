import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { restamp } from '../../../src/protocol/records/batch-header.js';
import { encodeRecordBatch, RecordBatchBuilder, sizeOfRecordBatch } from '../../../src/protocol/records/builder.js';
import { decodeRecordBatchesSync } from '../../../src/protocol/records/decode.js';
import type { RecordInput } from '../../../src/protocol/records/record.js';
import { arbRecords } from './arbitraries.js';
import { comparable, expectedRecord, referenceCrc32c } from './helpers.js';

const SENTINEL = 0xa5;
const poolBuffer = (size: number): Buffer => Buffer.alloc(size, SENTINEL);

describe('RecordBatchBuilder', () => {
  it('needs room for a header', () => {
    expect(() => new RecordBatchBuilder(Buffer.alloc(60))).toThrow(RangeError);
    const empty = new RecordBatchBuilder(Buffer.alloc(61));
    expect(empty.sizeInBytes).toBe(61);
    expect(empty.tryAppend({ key: null, value: null, timestamp: 0 })).toBe(false);
    expect(empty.finish().length).toBe(61);
  });

  it('returns each record index and tracks count and timestamps', () => {
    const b = new RecordBatchBuilder(poolBuffer(1000));
    expect([b.recordCount, b.firstTimestamp, b.maxTimestamp]).toEqual([0, -1, -1]);
    expect(b.append({ key: 'a', value: '1', timestamp: 100 })).toBe(0);
    expect(b.append({ key: 'b', value: '2', timestamp: 90 })).toBe(1);
    expect(b.append({ key: 'c', value: '3', timestamp: 150 })).toBe(2);
    expect([b.recordCount, b.firstTimestamp, b.maxTimestamp]).toEqual([3, 100, 150]);
    const batch = b.finish();
    expect(batch.readBigInt64BE(27)).toBe(100n);
    expect(batch.readBigInt64BE(35)).toBe(150n);
    expect(batch.readInt32BE(23)).toBe(2); // lastOffsetDelta
  });

  it('copies record bytes at append time', () => {
    const key = Buffer.from('key');
    const value = new Uint8Array([1, 2, 3]);
    const headers = [{ key: 'h', value: Buffer.from('v') }];
    const record: RecordInput = { key, value, headers, timestamp: 7 };
    const b = new RecordBatchBuilder(poolBuffer(200));
    b.append(record);
    key.fill(0);
    value.fill(0);
    headers[0]!.value.fill(0);
    headers.push({ key: 'late', value: Buffer.from('x') });
    record.timestamp = 99;
    const [decoded] = decodeRecordBatchesSync(b.finish()).batches[0]!.records;
    expect(decoded!.key).toEqual(Buffer.from('key'));
    expect(decoded!.value).toEqual(Buffer.from([1, 2, 3]));
    expect(decoded!.headers).toEqual([{ key: 'h', value: Buffer.from('v') }]);
    expect(decoded!.timestamp).toBe(7);
  });

  it('refuses appends once finished', () => {
    const b = new RecordBatchBuilder(poolBuffer(200));
    b.append({ key: null, value: 'v', timestamp: 1 });
    b.finish();
    expect(b.finished).toBe(true);
    expect(() => b.append({ key: null, value: 'v', timestamp: 1 })).toThrow(/finished/);
  });

  it('leaves the batch as it was when a timestamp is refused', () => {
    const b = new RecordBatchBuilder(poolBuffer(200));
    b.append({ key: null, value: 'v', timestamp: 1 });
    expect(() => b.append({ key: null, value: 'v', timestamp: 0.5 })).toThrow(RangeError);
    expect(b.recordCount).toBe(1);
    expect(decodeRecordBatchesSync(b.finish()).batches[0]!.records).toHaveLength(1);
  });

  it('appends after sizeWith at the size sizeWith gave, even when the clock moves across a varint size', () => {
    // Deltas 0..63 zig-zag into one byte, 64 takes two: the second clock reading must not be used.
    const readings = [1000, 1063, 1064, 1064];
    const clock = (): number => readings.shift()!;
    const b = new RecordBatchBuilder(poolBuffer(300), { clock });
    b.append({ key: null, value: 'first' }); // reads 1000
    const record = { key: null, value: 'second' };
    const predicted = b.sizeWith(record); // reads 1063
    expect(b.tryAppend(record)).toBe(true); // reuses 1063
    expect(b.sizeInBytes).toBe(predicted);
    expect(b.maxTimestamp).toBe(1063);
    b.append({ key: null, value: 'third' }); // reads 1064
    expect(b.maxTimestamp).toBe(1064);
  });

  it('predicts its size exactly, record by record', () => {
    fc.assert(
      fc.property(arbRecords, ({ records, timestamp }) => {
        const b = new RecordBatchBuilder(poolBuffer(sizeOfRecordBatch(records, timestamp)), { clock: () => timestamp });
        for (let i = 0; i < records.length; i++) {
          const predicted = b.sizeWith(records[i]!);
          expect(b.append(records[i]!)).toBe(i);
          expect(b.sizeInBytes).toBe(predicted);
        }
        expect(b.sizeInBytes).toBe(b.capacity);
        expect(b.finish().length).toBe(b.capacity);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts a record that fits exactly and refuses one byte more, leaving the buffer untouched', () => {
    fc.assert(
      fc.property(arbRecords.filter(({ records }) => records.length > 0), ({ records, timestamp }) => {
        const exact = sizeOfRecordBatch(records, timestamp);
        const fits = new RecordBatchBuilder(poolBuffer(exact), { clock: () => timestamp });
        for (const r of records) expect(fits.tryAppend(r)).toBe(true);

        const short = poolBuffer(exact - 1);
        const tight = new RecordBatchBuilder(short, { clock: () => timestamp });
        for (const r of records.slice(0, -1)) expect(tight.tryAppend(r)).toBe(true);
        const before = tight.sizeInBytes;
        expect(tight.tryAppend(records.at(-1)!)).toBe(false);
        expect(tight.append(records.at(-1)!)).toBe(-1);
        expect(tight.sizeInBytes).toBe(before);
        expect(tight.recordCount).toBe(records.length - 1);
        expect(short.subarray(before).equals(Buffer.alloc(short.length - before, SENTINEL))).toBe(true);

        const decoded = decodeRecordBatchesSync(tight.finish()).batches[0]!;
        expect(comparable(decoded.records)).toEqual(comparable(records.slice(0, -1).map((r, i) => expectedRecord(r, i, timestamp))));
      }),
      { numRuns: 200 },
    );
  });
});

describe('growing a batch into a bigger buffer', () => {
  it('writes the same batch as one built in the big buffer from the start, whatever the records and the moment it grows', () => {
    fc.assert(
      fc.property(arbRecords, fc.nat(), ({ records, timestamp }, at) => {
        const whole = sizeOfRecordBatch(records, timestamp);
        // Starts with room for the header only, so it grows before the first record or at `growAt`.
        const grown = new RecordBatchBuilder(poolBuffer(61), { clock: () => timestamp });
        const growAt = at % (records.length + 1);
        for (let i = 0; i < records.length; i++) {
          if (i === growAt || grown.append(records[i]!) < 0) {
            const before = grown.buffer;
            expect(grown.grow(poolBuffer(whole))).toBe(before);
            expect(grown.capacity).toBe(whole);
            expect(grown.append(records[i]!)).toBe(i);
          }
        }
        expect(grown.recordCount).toBe(records.length);
        const reference = encodeRecordBatch(records, { timestamp });
        expect(grown.finish().equals(reference)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a buffer smaller than the batch so far, and a finished batch', () => {
    const b = new RecordBatchBuilder(poolBuffer(200));
    b.append({ key: null, value: 'x'.repeat(50), timestamp: 1 });
    expect(() => b.grow(Buffer.alloc(b.sizeInBytes - 1))).toThrow(RangeError);
    b.finish();
    expect(() => b.grow(Buffer.alloc(1000))).toThrow(/finished/);
  });
});

describe('re-stamping a finished batch', () => {
  const records: RecordInput[] = [
    { key: 'a', value: 'x', timestamp: 10 },
    { key: null, value: 'y', timestamp: 11, headers: { h: null } },
  ];

  it('rewrites producer id, epoch and sequence and the CRC, as a fresh finish would', () => {
    const builder = new RecordBatchBuilder(Buffer.alloc(sizeOfRecordBatch(records)));
    for (const r of records) builder.append(r);
    const first = Buffer.from(builder.finish({ producerId: 7n, producerEpoch: 1, baseSequence: 100, transactional: true }));

    const bumped = Buffer.from(first);
    restamp(bumped, { producerId: 7n, producerEpoch: 2, baseSequence: 0 });
    const refinished = builder.finish({ producerId: 7n, producerEpoch: 2, baseSequence: 0, transactional: true });
    expect(bumped.equals(refinished)).toBe(true);
    expect(bumped.equals(encodeRecordBatch(records, { producerId: 7, producerEpoch: 2, baseSequence: 0, transactional: true }))).toBe(true);

    const [batch] = decodeRecordBatchesSync(bumped).batches;
    expect(batch).toMatchObject({ producerId: 7n, producerEpoch: 2, baseSequence: 0, attributes: { transactional: true } });
    expect(bumped.readUInt32BE(17)).toBe(referenceCrc32c(bumped.subarray(21)));
  });

  it('changes the transactional flag and partition leader epoch only when asked', () => {
    const batch = encodeRecordBatch(records, { producerId: 1, producerEpoch: 0, baseSequence: 0 });
    restamp(batch, { producerId: 1, producerEpoch: 0, baseSequence: 5, transactional: true, partitionLeaderEpoch: 3 });
    expect(decodeRecordBatchesSync(batch).batches[0]).toMatchObject({
      baseSequence: 5,
      partitionLeaderEpoch: 3,
      attributes: { transactional: true },
    });
    restamp(batch, { producerId: 1, producerEpoch: 0, baseSequence: 6 });
    expect(decodeRecordBatchesSync(batch).batches[0]).toMatchObject({
      baseSequence: 6,
      partitionLeaderEpoch: 3,
      attributes: { transactional: true },
    });
    restamp(batch, { producerId: 1, producerEpoch: 0, baseSequence: 6, transactional: false });
    expect(decodeRecordBatchesSync(batch).batches[0]!.attributes.transactional).toBe(false);
  });

  it('refuses bytes that are not exactly one v2 batch', () => {
    const batch = encodeRecordBatch(records);
    const stamp = { producerId: 1, producerEpoch: 0, baseSequence: 0 };
    expect(() => restamp(batch.subarray(0, 60), stamp)).toThrow(ProtocolError);
    expect(() => restamp(Buffer.concat([batch, Buffer.alloc(1)]), stamp)).toThrow(/batchLength/);
    const legacy = Buffer.from(batch);
    legacy[16] = 1;
    expect(() => restamp(legacy, stamp)).toThrow(/magic 1/);
  });
});
