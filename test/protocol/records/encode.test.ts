import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32c, crc32cImplementation } from '../../../src/protocol/records/crc32c.js';
import { encodeRecordBatch, sizeOfRecordBatch } from '../../../src/protocol/records/builder.js';
import { sizeOfRecord } from '../../../src/protocol/records/record.js';
import { hex, referenceCrc32c } from './helpers.js';

describe('crc32c', () => {
  it('matches the standard check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(referenceCrc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('covers exactly the range it is given, unsigned', () => {
    const bytes = Buffer.from('xx123456789yy');
    expect(crc32c(bytes, 2, 11)).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    const high = Buffer.from([0xff, 0x01, 0x02]);
    expect(crc32c(high)).toBe(referenceCrc32c(high));
    expect(crc32c(high)).toBeGreaterThan(0);
  });

  it('gives the reference checksum for every length and offset, on both sides of the native threshold', () => {
    // On this machine the native @node-rs/crc32 is installed (an optional dependency) and
    // takes ranges of 512 bytes and more: both implementations are held to the reference.
    expect(crc32cImplementation).toBe(process.env['KAFKA_WIRE_CRC32C'] === 'js' ? 'javascript (crc-32)' : 'native (@node-rs/crc32)');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length === 0 ? 0 : a % bytes.length;
        const end = start + (bytes.length === start ? 0 : b % (bytes.length - start + 1));
        const range = bytes.subarray(start, end);
        expect(crc32c(bytes, start, end)).toBe(referenceCrc32c(range));
        expect(crc32c(Buffer.from(range))).toBe(referenceCrc32c(range));
      }),
      { numRuns: 400 },
    );
  });
});

describe('a record without a key field', () => {
  it('is encoded as one with a null key', () => {
    const timestamp = 1_700_000_000_000;
    expect(encodeRecordBatch([{ value: 'v', timestamp }]).equals(encodeRecordBatch([{ key: null, value: 'v', timestamp }]))).toBe(true);
    expect(sizeOfRecordBatch([{ value: 'v', timestamp }], timestamp)).toBe(sizeOfRecordBatch([{ key: null, value: 'v', timestamp }], timestamp));
  });
});

describe('a small batch, byte for byte', () => {
  // Worked out by hand from the RecordBatch v2 layout.
  const records = [
    { key: 'k', value: 'v1', timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'x' }] },
    { key: null, value: 'v2', timestamp: 1_700_000_000_005 },
  ];
  const record0 = hex(`
    1a        // length 13 (zig-zag 26)
    00        // attributes
    00        // timestampDelta 0
    00        // offsetDelta 0
    02 6b     // keyLength 1, "k"
    04 7631   // valueLength 2, "v1"
    02        // headerCount 1
    02 68     // header keyLength 1, "h"
    02 78     // header valueLength 1, "x"
  `);
  const record1 = hex(`
    10        // length 8
    00        // attributes
    0a        // timestampDelta 5 (zig-zag 10)
    02        // offsetDelta 1
    01        // keyLength -1: null key
    04 7632   // valueLength 2, "v2"
    00        // headerCount 0
  `);
  const afterCrc = Buffer.concat([
    hex(`
      0000                // attributes: no compression, CreateTime, not transactional
      00000001            // lastOffsetDelta
      0000018bcfe56800    // baseTimestamp 1700000000000
      0000018bcfe56805    // maxTimestamp 1700000000005
      000000000000002a    // producerId 42
      0003                // producerEpoch
      00000007            // baseSequence
      00000002            // recordCount
    `),
    record0,
    record1,
  ]);
  const expected = Buffer.concat([
    hex(`
      0000000000000000    // baseOffset
      00000048            // batchLength 72 = 84 - 12
      ffffffff            // partitionLeaderEpoch -1
      02                  // magic
      0b4d167d            // crc: CRC-32C of everything after it (bitwise reference below)
    `),
    afterCrc,
  ]);

  it('has the CRC of everything from the attributes on', () => {
    expect(referenceCrc32c(afterCrc)).toBe(0x0b4d167d);
  });

  it('is what encodeRecordBatch writes, and what the size functions predict', () => {
    const batch = encodeRecordBatch(records, { producerId: 42n, producerEpoch: 3, baseSequence: 7 });
    expect(batch.toString('hex')).toBe(expected.toString('hex'));
    expect(sizeOfRecordBatch(records)).toBe(84);
    expect(sizeOfRecord(records[0]!, 0, 0)).toBe(record0.length);
    expect(sizeOfRecord(records[1]!, 5, 1)).toBe(record1.length);
  });

  it('is the same with headers given as an object, and producerId as a number', () => {
    const asObject = [{ ...records[0]!, headers: { h: 'x' } }, records[1]!];
    const batch = encodeRecordBatch(asObject, { producerId: 42, producerEpoch: 3, baseSequence: 7 });
    expect(batch.toString('hex')).toBe(expected.toString('hex'));
  });
});

describe('encodeRecordBatch', () => {
  it('writes the sentinels of a producer without idempotence', () => {
    const batch = encodeRecordBatch([{ key: null, value: null, timestamp: 5 }]);
    expect(batch.readInt32BE(12)).toBe(-1); // partitionLeaderEpoch
    expect(batch.readBigInt64BE(43)).toBe(-1n); // producerId
    expect(batch.readInt16BE(51)).toBe(-1); // producerEpoch
    expect(batch.readInt32BE(53)).toBe(-1); // baseSequence
    expect(batch.readInt16BE(21)).toBe(0); // attributes
  });

  it('sets the transactional bit and a given partition leader epoch', () => {
    const batch = encodeRecordBatch([{ key: null, value: 'v', timestamp: 5 }], {
      producerId: 1,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
      partitionLeaderEpoch: 9,
    });
    expect(batch.readInt16BE(21)).toBe(0x10);
    expect(batch.readInt32BE(12)).toBe(9);
    expect(batch.readUInt32BE(17)).toBe(referenceCrc32c(batch.subarray(21)));
  });

  it('encodes an empty batch as a bare header', () => {
    const batch = encodeRecordBatch([]);
    expect(batch.length).toBe(61);
    expect(batch.readInt32BE(8)).toBe(49);
    expect(batch.readInt32BE(23)).toBe(-1); // lastOffsetDelta
    expect(batch.readBigInt64BE(27)).toBe(-1n); // baseTimestamp
    expect(batch.readInt32BE(57)).toBe(0);
  });

  it('gives records without a timestamp the one it is told, else one clock reading', () => {
    const batch = encodeRecordBatch([{ key: null, value: 'a' }, { key: null, value: 'b', timestamp: 12 }], { timestamp: 10 });
    expect(batch.readBigInt64BE(27)).toBe(10n);
    expect(batch.readBigInt64BE(35)).toBe(12n);
    const before = Date.now();
    const now = encodeRecordBatch([{ key: null, value: 'a' }, { key: null, value: 'b' }]);
    expect(Number(now.readBigInt64BE(27))).toBeGreaterThanOrEqual(before);
    expect(now.readBigInt64BE(35)).toBe(now.readBigInt64BE(27));
  });

  it('refuses timestamps that are not integers or too far apart to encode exactly', () => {
    expect(() => encodeRecordBatch([{ key: null, value: null, timestamp: 1.5 }])).toThrow(RangeError);
    expect(() => encodeRecordBatch([{ key: null, value: null, timestamp: Number.NaN }])).toThrow(RangeError);
    expect(() =>
      encodeRecordBatch([
        { key: null, value: null, timestamp: -Number.MAX_SAFE_INTEGER },
        { key: null, value: null, timestamp: Number.MAX_SAFE_INTEGER },
      ]),
    ).toThrow(/too far/);
  });

  it('writes strings as UTF-8', () => {
    const batch = encodeRecordBatch([{ key: 'é', value: '日本', timestamp: 0, headers: [{ key: 'ключ', value: '✓' }] }]);
    const text = batch.subarray(61);
    expect(text.includes(Buffer.from('é'))).toBe(true);
    expect(text.includes(Buffer.from('日本'))).toBe(true);
    expect(text.includes(Buffer.from('ключ'))).toBe(true);
    expect(text.includes(Buffer.from('✓'))).toBe(true);
  });
});
