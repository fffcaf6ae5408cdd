import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xxhash32 } from '../../../src/protocol/compression/xxhash32.js';

/** The bytes the vectors below were hashed over: byte i is (i * 131 + 7) mod 256. */
const data = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 131 + 7) & 0xff));

// [length, seed, hash] from lz4-java 1.10.2 (the jar Kafka 4.3.1 ships),
// XXHashFactory.safeInstance().hash32().hash(data, 0, length, seed). The lengths cover
// each code path: under 4, the 4-byte tail loop, the 16-byte stripes, and stripes + tail.
const LZ4_JAVA_VECTORS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 0x02cc5d05],
  [0, 1, 0x0b2cb792],
  [0, 0x9e3779b1, 0x36b78ae7],
  [1, 0, 0x002e0d32],
  [1, 0x9e3779b1, 0xd40fe509],
  [4, 0, 0xf189ec97],
  [15, 1, 0x1b0f6083],
  [16, 0, 0x64287c90],
  [16, 0x9e3779b1, 0x63edbb26],
  [17, 0, 0x1c63fdc5],
  [33, 1, 0x4f581d30],
  [100, 0, 0xcc7d31ef],
  [1024, 0, 0xd383ffc6],
  [1024, 0x9e3779b1, 0xac89bdbb],
];

describe('xxhash32', () => {
  it.each(LZ4_JAVA_VECTORS)('matches lz4-java for %i bytes, seed %i', (length, seed, expected) => {
    expect(xxhash32(data.subarray(0, length), seed)).toBe(expected);
  });

  it('hashes a view by its own bytes, not from the start of its ArrayBuffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(16), (bytes, pad) => {
        const backing = new Uint8Array(pad + bytes.length);
        backing.set(bytes, pad);
        expect(xxhash32(backing.subarray(pad))).toBe(xxhash32(Uint8Array.from(bytes)));
      }),
    );
  });

  it('returns an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (bytes, seed) => {
        const h = xxhash32(bytes, seed);
        expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      }),
    );
  });
});
