/**
 * XXH32, the checksum the LZ4 frame format uses for its header byte and its optional
 * block and content checksums (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
 *
 * Written here rather than taken from a package because the frame code needs it on every
 * lz4 call and it is small; none of the native codec packages expose it.
 */

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

// All arithmetic is modulo 2^32: `| 0` truncates sums, and Math.imul multiplies without
// the precision loss a plain `*` suffers past 2^53.
const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, PRIME2)) | 0, 13), PRIME1);

/** XXH32 of `data` with `seed`, as an unsigned 32-bit integer. */
export function xxhash32(data: Uint8Array, seed = 0): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.byteLength;
  let i = 0;
  let h: number;

  if (length >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    for (const last = length - 16; i <= last; i += 16) {
      v1 = round(v1, view.getUint32(i, true));
      v2 = round(v2, view.getUint32(i + 4, true));
      v3 = round(v3, view.getUint32(i + 8, true));
      v4 = round(v4, view.getUint32(i + 12, true));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }

  // The spec adds the length modulo 2^32; `| 0` gives exactly that for any buffer length.
  h = (h + length) | 0;
  for (; i + 4 <= length; i += 4) {
    h = Math.imul(rotl((h + Math.imul(view.getUint32(i, true), PRIME3)) | 0, 17), PRIME4);
  }
  for (; i < length; i++) {
    h = Math.imul(rotl((h + Math.imul(view.getUint8(i), PRIME5)) | 0, 11), PRIME1);
  }

  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}
