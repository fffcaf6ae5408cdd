import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { Reader } from '../../src/protocol/reader.js';
import * as sizes from '../../src/protocol/sizes.js';
import { uuidToBytes, ZERO_UUID } from '../../src/protocol/uuid.js';
import { Writer } from '../../src/protocol/writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const written = (fn: (w: Writer) => void): string => {
  const w = new Writer(1);
  fn(w);
  return w.finish().toString('hex');
};
const reader = (s: string): Reader => new Reader(hex(s));

describe('fixed-width integers', () => {
  it('are big-endian at their limits', () => {
    expect(written((w) => w.int8(-128))).toBe('80');
    expect(written((w) => w.int8(127))).toBe('7f');
    expect(written((w) => w.int16(-1))).toBe('ffff');
    expect(written((w) => w.int16(0x1234))).toBe('1234');
    expect(written((w) => w.int32(-2147483648))).toBe('80000000');
    expect(written((w) => w.int32(2147483647))).toBe('7fffffff');
    expect(written((w) => w.uint32(0xffffffff))).toBe('ffffffff');
    expect(written((w) => w.int64(-1n))).toBe('ffffffffffffffff');
    expect(written((w) => w.int64(-(2n ** 63n)))).toBe('8000000000000000');
    expect(written((w) => w.int64(2n ** 63n - 1n))).toBe('7fffffffffffffff');
    expect(written((w) => w.bool(true))).toBe('01');
    expect(written((w) => w.float64(1.5))).toBe('3ff8000000000000');
  });

  it('read back what was written', () => {
    const r = reader('80 ffff 80000000 7fffffff ffffffffffffffff 01 00 3ff8000000000000');
    expect([r.int8(), r.int16(), r.int32(), r.int32(), r.int64(), r.bool(), r.bool(), r.float64()]).toEqual([
      -128, -1, -2147483648, 2147483647, -1n, true, false, 1.5,
    ]);
    expect(r.remaining).toBe(0);
  });

  it('int64 as a number is exact for safe integers and -1', () => {
    for (const v of [0, -1, 1700000000000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      const hexed = written((w) => w.int64Number(v));
      expect(hexed).toBe(written((w) => w.int64(BigInt(v))));
      expect(reader(hexed).int64Number()).toBe(v);
    }
  });
});

describe('varints', () => {
  // Vectors from the protobuf/Kafka zig-zag definition.
  const uvarints: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2097151, 'ffff7f'],
    [2097152, '80808001'],
    [268435455, 'ffffff7f'],
    [268435456, '8080808001'],
    [0xffffffff, 'ffffffff0f'],
  ];
  it.each(uvarints)('unsigned %d is %s', (v, bytes) => {
    expect(written((w) => w.uvarint(v))).toBe(bytes);
    expect(reader(bytes).uvarint()).toBe(v);
    expect(sizes.sizeOfUvarint(v)).toBe(bytes.length / 2);
  });

  const zigzag: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [2147483647, 'feffffff0f'],
    [-2147483648, 'ffffffff0f'],
  ];
  it.each(zigzag)('signed %d is %s', (v, bytes) => {
    expect(written((w) => w.varint(v))).toBe(bytes);
    expect(reader(bytes).varint()).toBe(v);
    expect(sizes.sizeOfVarint(v)).toBe(bytes.length / 2);
  });

  const varlongs: Array<[bigint, string]> = [
    [0n, '00'],
    [-1n, '01'],
    [1n, '02'],
    [2n ** 63n - 1n, 'feffffffffffffffff01'],
    [-(2n ** 63n), 'ffffffffffffffffff01'],
  ];
  it.each(varlongs)('varlong %d is %s', (v, bytes) => {
    expect(written((w) => w.varlong(v))).toBe(bytes);
    expect(reader(bytes).varlong()).toBe(v);
    expect(sizes.sizeOfVarlong(v)).toBe(bytes.length / 2);
  });

  it('varlong as a number agrees with the bigint form over the safe range', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const bytes = written((w) => w.varlongNumber(v));
        expect(bytes).toBe(written((w) => w.varlong(BigInt(v))));
        expect(sizes.sizeOfVarlongNumber(v)).toBe(bytes.length / 2);
        expect(reader(bytes).varlongNumber()).toBe(v);
      }),
    );
  });

  it('varint round-trips and predicts its size for any int32', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const bytes = written((w) => w.varint(v));
        expect(sizes.sizeOfVarint(v)).toBe(bytes.length / 2);
        expect(reader(bytes).varint()).toBe(v);
      }),
    );
  });

  it('rejects a varint longer than 5 bytes and a varlong longer than 10', () => {
    expect(() => reader('ffffffffff01').uvarint()).toThrow(ProtocolError);
    expect(() => reader('ffffffffffffffffffff01').varlong()).toThrow(ProtocolError);
  });

  it('rejects a varint cut short', () => {
    expect(() => reader('ff').uvarint()).toThrow(/truncated/);
    expect(() => reader('80 80').varint()).toThrow(ProtocolError);
    expect(() => reader('ff ff').varlong()).toThrow(ProtocolError);
  });
});

describe('strings and bytes', () => {
  it('write each form with its length prefix', () => {
    expect(written((w) => w.string('abc'))).toBe('0003616263');
    expect(written((w) => w.string(''))).toBe('0000');
    expect(written((w) => w.nullableString(null))).toBe('ffff');
    expect(written((w) => w.compactString('abc'))).toBe('04616263');
    expect(written((w) => w.compactString(''))).toBe('01');
    expect(written((w) => w.compactNullableString(null))).toBe('00');
    expect(written((w) => w.bytes(hex('0102')))).toBe('000000020102');
    expect(written((w) => w.nullableBytes(null))).toBe('ffffffff');
    expect(written((w) => w.compactBytes(hex('')))).toBe('01');
    expect(written((w) => w.compactNullableBytes(null))).toBe('00');
  });

  it('count UTF-8 bytes, not characters', () => {
    const s = 'ü€😀';
    expect(written((w) => w.string(s))).toBe('0009' + Buffer.from(s).toString('hex'));
    expect(sizes.sizeOfString(s)).toBe(11);
    expect(sizes.sizeOfCompactString(s)).toBe(10);
    expect(reader(written((w) => w.compactString(s))).compactString()).toBe(s);
  });

  it('read null, empty and values back', () => {
    const r = reader('ffff 0000 0003616263 00 01 04616263 ffffffff 00000000 000000020102 00 01 03aabb');
    expect(r.nullableString()).toBeNull();
    expect(r.string()).toBe('');
    expect(r.string()).toBe('abc');
    expect(r.compactNullableString()).toBeNull();
    expect(r.compactString()).toBe('');
    expect(r.compactString()).toBe('abc');
    expect(r.nullableBytes()).toBeNull();
    expect(r.bytes().length).toBe(0);
    expect(r.bytes().toString('hex')).toBe('0102');
    expect(r.compactNullableBytes()).toBeNull();
    expect(r.compactBytes().length).toBe(0);
    expect(r.compactBytes().toString('hex')).toBe('aabb');
    expect(r.remaining).toBe(0);
  });

  it('takes the longest int16-prefixed string and refuses a longer one', () => {
    const longest = 'x'.repeat(0x7fff);
    const bytes = written((w) => w.string(longest));
    expect(bytes.length / 2).toBe(2 + 0x7fff);
    expect(reader(bytes).string()).toBe(longest);
    expect(() => new Writer().string('x'.repeat(0x8000))).toThrow(ProtocolError);
  });

  it('refuses null where null is not allowed and negative lengths below -1', () => {
    expect(() => reader('ffff').string()).toThrow(/non-nullable/);
    expect(() => reader('00').compactString()).toThrow(ProtocolError);
    expect(() => reader('ffffffff').bytes()).toThrow(ProtocolError);
    expect(() => reader('fffe').nullableString()).toThrow(/invalid string length -2/);
    expect(() => reader('fffffffe').nullableBytes()).toThrow(/invalid bytes length -2/);
  });

  it('never trusts a length: a lie costs a ProtocolError, not an allocation', () => {
    expect(() => reader('7fff 61').string()).toThrow(/needs 32767 bytes at offset 2, 1 left/);
    expect(() => reader('7fffffff').bytes()).toThrow(/needs 2147483647 bytes/);
    expect(() => reader('ffffffff07').compactBytes()).toThrow(ProtocolError);
    expect(() => reader('ffffffff0f').compactNullableString()).toThrow(ProtocolError);
  });

  it('returns bytes as views into the input', () => {
    const input = hex('00000002aabb');
    const view = new Reader(input).bytes();
    input[4] = 0xcc;
    expect(view.toString('hex')).toBe('ccbb');
  });
});

describe('uuid', () => {
  it('is 16 bytes, shown as Kafka shows it (base64url, 22 characters)', () => {
    const id = 'Wb2tCz3TRnS0IJ6Ix9JcbQ';
    const bytes = written((w) => w.uuid(id));
    expect(bytes.length).toBe(32);
    expect(reader(bytes).uuid()).toBe(id);
    expect(reader('00'.repeat(16)).uuid()).toBe(ZERO_UUID);
    expect(() => uuidToBytes('not-a-uuid')).toThrow(ProtocolError);
    expect(() => reader('00'.repeat(15)).uuid()).toThrow(/truncated/);
  });

  it('reads and writes each id as itself, whatever ids came before (the decoded ones are remembered)', () => {
    // Few distinct ids, so the same one often comes again, right after itself or later.
    const ids = fc.sample(fc.uint8Array({ minLength: 16, maxLength: 16 }), 5).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(fc.array(fc.nat(ids.length - 1), { minLength: 1, maxLength: 40 }), (picks) => {
        for (const i of picks) {
          const bytes = ids[i]!;
          const text = bytes.toString('base64url');
          expect(new Reader(bytes).uuid()).toBe(text);
          expect(written((w) => w.uuid(text))).toBe(bytes.toString('hex'));
        }
      }),
    );
  });
});

describe('array counts', () => {
  it('are checked against the bytes left before anything is allocated', () => {
    expect(reader('00000002 0000').arrayLength(false, 1)).toBe(2);
    expect(() => reader('7fffffff').arrayLength(false, 1)).toThrow(/claims 2147483647 elements/);
    expect(() => reader('00000002 0000').arrayLength(false, 2)).toThrow(ProtocolError);
    expect(reader('ffffffff').arrayLength(false, 4)).toBe(-1);
    expect(reader('00').arrayLength(true, 4)).toBe(-1);
    expect(reader('01').arrayLength(true, 4)).toBe(0);
    expect(() => reader('fffffffe').arrayLength(false, 4)).toThrow(/invalid array length -2/);
    expect(() => reader('ffffffff0f').arrayLength(true, 1)).toThrow(ProtocolError);
  });
});

describe('Writer', () => {
  it('grows when it was given too little room and keeps what it wrote', () => {
    const w = new Writer(2);
    w.int32(1);
    w.string('hello');
    expect(w.finish().toString('hex')).toBe('00000001' + '0005' + Buffer.from('hello').toString('hex'));
  });

  it('never grows when given the exact size', () => {
    const buf = Buffer.alloc(7);
    const w = new Writer(buf);
    w.int16(1);
    w.compactString('abcd');
    expect(w.buf).toBe(buf);
    expect(w.offset).toBe(7);
  });
});
