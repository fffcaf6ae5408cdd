import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { putUvarint, uvarintSize, zigzag } from '../../../src/protocol/records/varint.js';
import { sizeOfUvarint, sizeOfVarint } from '../../../src/protocol/sizes.js';
import { Writer } from '../../../src/protocol/writer.js';

/** Every bit length and both sides of it. */
const boundaries = Array.from({ length: 33 }, (_, bits) => [2 ** bits - 1, 2 ** bits, 2 ** bits + 1])
  .flat()
  .filter((v) => v <= 0xffffffff);
const uint32 = fc.oneof(fc.constantFrom(...boundaries), fc.nat({ max: 0xffffffff }));

/** A varint's size by the definition: one byte per started group of 7 bits. */
function groupsOf7(v: number): number {
  let n = v >>> 0;
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

describe('record hot-path varints', () => {
  it('size unsigned varints by the definition, as sizes.ts does', () => {
    fc.assert(
      fc.property(uint32, (v) => {
        expect(uvarintSize(v | 0)).toBe(groupsOf7(v));
        expect(sizeOfUvarint(v)).toBe(groupsOf7(v));
      }),
    );
  });

  it('zig-zag as the Writer does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        expect(uvarintSize(zigzag(v))).toBe(sizeOfVarint(v));
      }),
    );
  });

  it('write unsigned varints as the Writer does at each length boundary', () => {
    for (const v of [0, 0x7f, 0x80, 0x3fff, 0x4000, 0x1f_ffff, 0x20_0000, 0xfff_ffff, 0x1000_0000, 0xffff_ffff]) {
      const w = new Writer(16);
      w.uvarint(v);
      const buf = Buffer.alloc(16);
      expect(putUvarint(buf, 0, v | 0), `end of ${v.toString(16)}`).toBe(w.offset);
      expect(buf.subarray(0, w.offset).equals(w.buf.subarray(0, w.offset)), `bytes of ${v.toString(16)}`).toBe(true);
    }
  });

  it('write unsigned varints as the Writer does', () => {
    fc.assert(
      fc.property(uint32, fc.nat({ max: 3 }), (v, at) => {
        const w = new Writer(16);
        w.offset = at;
        w.uvarint(v);
        const buf = Buffer.alloc(16);
        expect(putUvarint(buf, at, v | 0)).toBe(w.offset);
        expect(buf.subarray(at, w.offset).equals(w.buf.subarray(at, w.offset))).toBe(true);
      }),
    );
  });
});
