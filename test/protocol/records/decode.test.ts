import { describe, expect, it } from 'vitest';
import { ConfigError, KafkaWireError, ProtocolError } from '../../../src/errors.js';
import { CODEC_ID } from '../../../src/protocol/compression/codecs.js';
import { encodeRecordBatch } from '../../../src/protocol/records/builder.js';
import { compressBatch } from '../../../src/protocol/records/compress-batch.js';
import { decodeRecordBatches, decodeRecordBatchesSync } from '../../../src/protocol/records/decode.js';
import { compressGzip, decompressGzip, hex, rawBatch, withAttributeBits, withBaseOffset } from './helpers.js';

const CONTROL = 0x20;
const LOG_APPEND_TIME = 0x08;
const TRANSACTIONAL = 0x10;
const DELETE_HORIZON = 0x40;

const first = encodeRecordBatch(
  [
    { key: 'a', value: '1', timestamp: 100 },
    { key: null, value: null, timestamp: 105, headers: [{ key: 'h', value: null }, { key: 'h', value: 'again' }] },
  ],
  { producerId: 3n, producerEpoch: 0, baseSequence: 0 },
);
const second = encodeRecordBatch([{ key: 'b', value: '2', timestamp: 200 }], { producerId: 3n, producerEpoch: 0, baseSequence: 2 });
const fetched = Buffer.concat([withBaseOffset(first, 40n), withBaseOffset(second, 42n)]);

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('decodeRecordBatches', () => {
  it('reads batches back to back, with offsets from each baseOffset', () => {
    const { batches, truncated } = decodeRecordBatchesSync(fetched);
    expect(truncated).toBe(false);
    expect(batches.map((b) => b.baseOffset)).toEqual([40n, 42n]);
    expect(batches.flatMap((b) => b.records.map((r) => r.offset))).toEqual([40n, 41n, 42n]);
    const [a, nulls] = batches[0]!.records;
    expect(a).toEqual({ offset: 40n, timestamp: 100, key: Buffer.from('a'), value: Buffer.from('1'), headers: [] });
    expect(nulls).toEqual({
      offset: 41n,
      timestamp: 105,
      key: null,
      value: null,
      headers: [
        { key: 'h', value: null },
        { key: 'h', value: Buffer.from('again') },
      ],
    });
    expect(batches[1]).toMatchObject({ baseSequence: 2, producerId: 3n, lastOffsetDelta: 0 });
  });

  it('gives the same from the async decoder', async () => {
    expect(await decodeRecordBatches(fetched)).toEqual(decodeRecordBatchesSync(fetched));
  });

  it('returns nothing for no bytes', () => {
    expect(decodeRecordBatchesSync(Buffer.alloc(0))).toEqual({ batches: [], truncated: false });
  });

  it('leaves out a last batch that Fetch cut short, and says so', () => {
    for (const cut of [1, 11, 12, 30, second.length - 1]) {
      const { batches, truncated } = decodeRecordBatchesSync(fetched.subarray(0, first.length + cut));
      expect(truncated).toBe(true);
      expect(batches.map((b) => b.baseOffset)).toEqual([40n]);
    }
  });

  it('refuses a batch whose CRC does not match, unless told not to check', () => {
    const corrupt = Buffer.from(first);
    corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
    expect(protocolError(() => decodeRecordBatchesSync(corrupt)).message).toMatch(/CRC-32C mismatch/);
    expect(decodeRecordBatchesSync(corrupt, { verifyCrc: false }).batches).toHaveLength(1);
  });

  it('refuses the legacy message formats rather than skipping their records', () => {
    // A v1 message: offset, size, crc, magic 1, attributes, timestamp, null key, 1-byte value.
    const v1 = hex('0000000000000007 00000017 00000000 01 00 0000000000000064 ffffffff 00000001 41');
    expect(protocolError(() => decodeRecordBatchesSync(v1)).message).toMatch(/magic 1: legacy message format v0\/v1 not supported/);
    const v0 = Buffer.from(v1);
    v0[16] = 0;
    expect(protocolError(() => decodeRecordBatchesSync(v0)).message).toMatch(/magic 0/);
    const v3 = Buffer.from(first);
    v3[16] = 3;
    expect(protocolError(() => decodeRecordBatchesSync(v3)).message).toMatch(/unknown magic 3/);
  });

  it('refuses batch lengths that cannot hold a header', () => {
    const negative = Buffer.from(first);
    negative.writeInt32BE(-5, 8);
    expect(protocolError(() => decodeRecordBatchesSync(negative)).message).toMatch(/negative batchLength/);
    const tiny = Buffer.from(first.subarray(0, 40));
    tiny.writeInt32BE(28, 8);
    expect(protocolError(() => decodeRecordBatchesSync(tiny)).message).toMatch(/smaller than a 61-byte header/);
    const noMagic = Buffer.from(first.subarray(0, 16));
    noMagic.writeInt32BE(4, 8);
    expect(protocolError(() => decodeRecordBatchesSync(noMagic)).message).toMatch(/no room for a magic byte/);
  });

  it('reads the attribute flags', () => {
    const flagged = withAttributeBits(first, TRANSACTIONAL | DELETE_HORIZON);
    expect(decodeRecordBatchesSync(flagged).batches[0]!.attributes).toEqual({
      compression: 'none',
      timestampType: 'CreateTime',
      transactional: true,
      control: false,
      hasDeleteHorizon: true,
    });
  });

  it('gives every record the batch maxTimestamp under LogAppendTime', () => {
    const appended = withAttributeBits(first, LOG_APPEND_TIME);
    const [batch] = decodeRecordBatchesSync(appended).batches;
    expect(batch!.attributes.timestampType).toBe('LogAppendTime');
    expect(batch!.records.map((r) => r.timestamp)).toEqual([105, 105]);
  });

  it('decodes transaction markers in control batches', () => {
    const marker = (type: number, coordinatorEpoch: number): Buffer => {
      const key = Buffer.alloc(4);
      key.writeInt16BE(0, 0); // version
      key.writeInt16BE(type, 2);
      const value = Buffer.alloc(6);
      value.writeInt16BE(0, 0); // version
      value.writeInt32BE(coordinatorEpoch, 2);
      return withAttributeBits(encodeRecordBatch([{ key, value, timestamp: 1 }]), CONTROL | TRANSACTIONAL);
    };
    const [commit, abort] = decodeRecordBatchesSync(Buffer.concat([marker(1, 17), marker(0, 4)])).batches;
    expect(commit!.attributes.control).toBe(true);
    expect(commit!.records[0]!.control).toEqual({ type: 'commit', typeId: 1, coordinatorEpoch: 17 });
    expect(abort!.records[0]!.control).toEqual({ type: 'abort', typeId: 0, coordinatorEpoch: 4 });

    const leaderChange = withAttributeBits(encodeRecordBatch([{ key: hex('00000002'), value: 'x', timestamp: 1 }]), CONTROL);
    expect(decodeRecordBatchesSync(leaderChange).batches[0]!.records[0]!.control).toEqual({
      type: 'unknown',
      typeId: 2,
      coordinatorEpoch: -1,
    });

    const shortKey = withAttributeBits(encodeRecordBatch([{ key: hex('0000'), value: null, timestamp: 1 }]), CONTROL);
    expect(protocolError(() => decodeRecordBatchesSync(shortKey)).message).toMatch(/control record key has 2 bytes/);
    const noValue = withAttributeBits(encodeRecordBatch([{ key: hex('00000001'), value: null, timestamp: 1 }]), CONTROL);
    expect(protocolError(() => decodeRecordBatchesSync(noValue)).message).toMatch(/end-transaction marker value has no bytes/);
  });

  it('leaves non-control records without a control field', () => {
    expect('control' in decodeRecordBatchesSync(first).batches[0]!.records[0]!).toBe(false);
  });
});

describe('malformed records', () => {
  // A record of 13 bytes after its length: key "k", value "v1", one header h=x.
  const body = hex('00 00 00 02 6b 04 7631 02 02 68 02 78');

  it('decodes the hand-made record when its length is right', () => {
    const [batch] = decodeRecordBatchesSync(rawBatch(Buffer.concat([hex('1a'), body]), 1)).batches;
    expect(batch!.records[0]).toMatchObject({ key: Buffer.from('k'), value: Buffer.from('v1'), timestamp: 1000 });
  });

  it('refuses a length prefix shorter than the fields', () => {
    const short = rawBatch(Buffer.concat([hex('18'), body]), 1);
    expect(protocolError(() => decodeRecordBatchesSync(short)).message).toMatch(/record 0 \(length prefix 12 bytes\): truncated input/);
  });

  it('refuses a length prefix longer than the fields', () => {
    const long = rawBatch(Buffer.concat([hex('1c'), body, hex('00')]), 1);
    expect(protocolError(() => decodeRecordBatchesSync(long)).message).toMatch(/length prefix says 14 bytes, its fields take 13/);
  });

  it('refuses bytes after the last record', () => {
    const trailing = rawBatch(Buffer.concat([hex('1a'), body, hex('00')]), 1);
    expect(protocolError(() => decodeRecordBatchesSync(trailing)).message).toMatch(/1 bytes follow the last of its 1 records/);
  });

  it('refuses a record count the bytes cannot hold, before reading records', () => {
    const liar = rawBatch(Buffer.concat([hex('1a'), body]), 0x7fffffff);
    expect(protocolError(() => decodeRecordBatchesSync(liar)).message).toMatch(/claims 2147483647 records/);
    const negative = rawBatch(Buffer.concat([hex('1a'), body]), -1);
    expect(protocolError(() => decodeRecordBatchesSync(negative)).message).toMatch(/negative recordCount/);
  });

  it('refuses negative lengths other than the null marker', () => {
    const key = rawBatch(hex('0c 00 00 00 03 00 00'), 1); // keyLength -2
    expect(protocolError(() => decodeRecordBatchesSync(key)).message).toMatch(/key length -2/);
    const count = rawBatch(hex('0c 00 00 00 01 01 01'), 1); // headerCount -1
    expect(protocolError(() => decodeRecordBatchesSync(count)).message).toMatch(/header count -1/);
    const headerKey = rawBatch(hex('10 00 00 00 01 01 02 01 01'), 1); // header keyLength -1
    expect(protocolError(() => decodeRecordBatchesSync(headerKey)).message).toMatch(/header 0 has key length -1/);
    const length = rawBatch(hex('01 00 00 00 01 01 00'), 1); // record length -1
    expect(protocolError(() => decodeRecordBatchesSync(length)).message).toMatch(/record 0: negative length -1/);
  });

  it('refuses a header count the record cannot hold', () => {
    const many = rawBatch(hex('0c 00 00 00 01 01 64 00'), 1); // 50 headers in 1 byte
    expect(protocolError(() => decodeRecordBatchesSync(many)).message).toMatch(/header count 50 does not fit/);
  });

  it('refuses malformed varints and timestamp deltas beyond the safe integers', () => {
    const varint = rawBatch(hex('ffffffffff7f 00'), 1);
    expect(protocolError(() => decodeRecordBatchesSync(varint)).message).toMatch(/malformed varint/);
    // timestampDelta zig-zag 2^62: 9 bytes of varlong.
    const huge = rawBatch(hex('1c 00 8080808080808080 40 00 01 01 00'), 1);
    expect(protocolError(() => decodeRecordBatchesSync(huge)).message).toMatch(/beyond the safe integer range/);
  });

  it('names the batch and the record in its errors', () => {
    const short = withBaseOffset(rawBatch(Buffer.concat([hex('18'), body]), 1), 77n);
    const error = protocolError(() => decodeRecordBatchesSync(Buffer.concat([first, short])));
    expect(error.message).toMatch(new RegExp(`^record batch at byte ${first.length} \\(baseOffset 77\\): record 0`));
    expect(error.cause).toBeInstanceOf(ProtocolError);
  });
});

describe('compressed batches', () => {
  it('are decompressed with the function given', async () => {
    const compressed = await compressBatch(first, CODEC_ID.gzip, compressGzip);
    const { batches } = await decodeRecordBatches(Buffer.concat([compressed, second]), { decompress: decompressGzip });
    expect(batches.map((b) => b.attributes.compression)).toEqual(['gzip', 'none']);
    expect(batches[0]!.records).toEqual(decodeRecordBatchesSync(first).batches[0]!.records);
  });

  it('need a decompress function, and the async decoder', async () => {
    const compressed = await compressBatch(first, CODEC_ID.gzip, compressGzip);
    await expect(decodeRecordBatches(compressed)).rejects.toThrow(ConfigError);
    await expect(decodeRecordBatches(compressed)).rejects.toThrow(/\(baseOffset 0, gzip\) is compressed and no decompress function was given/);
    expect(() => decodeRecordBatchesSync(compressed)).toThrow(ConfigError);
  });

  it('turn a failing decompression into a ProtocolError, keeping typed errors as they are', async () => {
    const compressed = await compressBatch(first, CODEC_ID.gzip, compressGzip);
    const broken = Buffer.from(compressed);
    broken[broken.length - 3] = broken[broken.length - 3]! ^ 0xff; // inside the gzip trailer: CRC of the block still recomputed below
    const rechecked = withAttributeBits(broken, 0);
    const error = await decodeRecordBatches(rechecked, { decompress: decompressGzip }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(/\(baseOffset 0, gzip\): its records do not decompress: /);
    expect((error as ProtocolError).cause).toBeInstanceOf(Error);

    const typed = new ConfigError('no snappy here');
    await expect(decodeRecordBatches(compressed, { decompress: () => Promise.reject(typed) })).rejects.toBe(typed);
    expect(typed).toBeInstanceOf(KafkaWireError);
  });

  it('refuse a codec id that does not exist', () => {
    expect(protocolError(() => decodeRecordBatchesSync(withAttributeBits(first, 5))).message).toMatch(/unknown compression codec id 5/);
  });
});
