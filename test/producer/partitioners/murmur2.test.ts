import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyedPartition, murmur2, toPositive } from '../../../src/producer/partitioners/murmur2.js';
import { keyedPartition as exported } from '../../../src/index.js';
import { javaVectors } from './java-vectors.js';

const { keys, partitionCounts } = javaVectors;

describe('Java vectors', () => {
  it('cover every tail length, empty, UTF-8, binary and long keys', () => {
    const lengths = new Set(keys.map((k) => k.hex.length / 2));
    for (let len = 0; len <= 7; len++) expect(lengths).toContain(len);
    expect(Math.max(...lengths)).toBeGreaterThan(16_000);
    expect(keys.filter((k) => k.murmur2 < 0).length).toBeGreaterThan(10);
    expect(partitionCounts).toEqual([1, 2, 3, 7, 12, 100, 1000]);
  });

  describe.each(keys.map((k) => [k.name, k] as const))('%s', (_name, vector) => {
    const key = Buffer.from(vector.hex, 'hex');

    it('murmur2 and toPositive equal Utils.murmur2 and Utils.toPositive', () => {
      expect(murmur2(key)).toBe(vector.murmur2);
      expect(toPositive(murmur2(key))).toBe(vector.positive);
    });

    it('keyedPartition equals BuiltInPartitioner.partitionForKey for every partition count', () => {
      expect(partitionCounts.map((n) => keyedPartition(key, n))).toEqual(vector.partitions);
      // The package's export, for custom partitioners, is this function.
      expect(partitionCounts.map((n) => exported(key, n))).toEqual(vector.partitions);
    });

    if (vector.text !== undefined) {
      it('the key is the UTF-8 of its text, as StringSerializer sends it', () => {
        expect(Buffer.from(vector.text!, 'utf8').toString('hex')).toBe(vector.hex);
      });
    }
  });
});

describe('ranges', () => {
  it('hashing a range of a bigger buffer equals hashing a copy of it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 9 }),
        fc.uint8Array({ maxLength: 9 }),
        (key, before, after) => {
          const buffer = Buffer.concat([before, key, after]);
          const start = before.length;
          expect(murmur2(buffer, start, start + key.length)).toBe(murmur2(Buffer.from(key)));
          expect(keyedPartition(buffer, 12, start, start + key.length)).toBe(keyedPartition(key, 12));
        },
      ),
    );
  });

  it('a Java vector hashed inside a larger buffer, at every alignment', () => {
    const vector = keys.find((k) => k.name === 'random 23')!;
    const key = Buffer.from(vector.hex, 'hex');
    for (let offset = 0; offset < 8; offset++) {
      const buffer = Buffer.alloc(offset + key.length + 5, 0xa5);
      key.copy(buffer, offset);
      expect(murmur2(buffer, offset, offset + key.length)).toBe(vector.murmur2);
    }
  });

  it('takes any Uint8Array view, honouring its own offset', () => {
    const backing = new Uint8Array(32).map((_, i) => i * 7);
    const view = new Uint8Array(backing.buffer, 5, 20);
    expect(murmur2(view)).toBe(murmur2(Buffer.from(backing.subarray(5, 25))));
    expect(murmur2(view, 3, 11)).toBe(murmur2(backing, 8, 16));
  });

  it('an empty range hashes like the empty key', () => {
    const empty = keys.find((k) => k.hex === '')!;
    expect(murmur2(Buffer.from('abcdef'), 3, 3)).toBe(empty.murmur2);
  });

  it.each([
    [-1, 3],
    [2, 1],
    [0, 11],
    [0.5, 3],
    [0, Number.NaN],
  ])('rejects range [%s, %s) rather than hashing undefined bytes', (start, end) => {
    expect(() => murmur2(Buffer.alloc(10), start, end)).toThrow(RangeError);
  });
});

describe('toPositive', () => {
  it('clears the sign bit like Java, which Math.abs does not', () => {
    expect(toPositive(0)).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(2147483647)).toBe(2147483647);
    expect(toPositive(-5)).toBe(2147483643);
  });
});

describe('keyedPartition', () => {
  it('always lands in range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 100_000 }), (key, n) => {
        const p = keyedPartition(key, n);
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
      }),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects partition count %s', (n) => {
    expect(() => keyedPartition(Buffer.from('k'), n)).toThrow(RangeError);
  });
});
