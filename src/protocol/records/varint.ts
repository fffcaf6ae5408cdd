/**
 * Unchecked varint writing and sizing for the record hot path. The general-purpose
 * Writer and sizes.ts do the same with growth checks and branches; these are small
 * enough for V8 to inline all of them into one record write (its inlining budget is
 * what otherwise decides the producer's encode speed).
 */

/** Kafka's signed varints are zig-zag encoded, so that -1 (null) takes one byte. Result as int32 bits. */
export function zigzag(v: number): number {
  return (v << 1) ^ (v >> 31);
}

/**
 * Bytes of the uint32 bits of `n` as an unsigned varint: one per started group of 7
 * significant bits, ceil(bits / 7) = floor((bits + 6) / 7), where `* 37 >> 8` divides
 * by 7 exactly for these small numbers, without a branch or a float division.
 */
export function uvarintSize(n: number): number {
  const bits = 32 - Math.clz32(n | 1);
  return ((bits + 6) * 37) >> 8;
}

/**
 * Writes the uint32 bits of `v` as an unsigned varint at `offset`; returns the offset
 * after it. One- and two-byte varints (every length under 8 KiB) are written without
 * the loop.
 */
export function putUvarint(buf: Buffer, offset: number, v: number): number {
  const n = v >>> 0;
  if (n < 0x80) {
    buf[offset] = n;
    return offset + 1;
  }
  if (n < 0x4000) {
    buf[offset] = n | 0x80;
    buf[offset + 1] = n >>> 7;
    return offset + 2;
  }
  return putLongUvarint(buf, offset, n);
}

function putLongUvarint(buf: Buffer, offset: number, n: number): number {
  let o = offset;
  while (n >= 0x80) {
    buf[o++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[o++] = n;
  return o;
}

// Every branch above runs at load, on a scratch buffer. The optimized append path inlines
// putUvarint, and V8 compiles a branch it has no type feedback for as "deoptimize here":
// the first varint of three bytes (an offset delta past 8,191, in a 1 MiB batch of small
// records) used to throw the whole compiled append path away. V8 records feedback only
// once a function has run for a while (a budget of bytecode executed), hence the rounds.
{
  const scratch = Buffer.alloc(5);
  const oneTwoThreeAndFiveBytes = [0x7f, 0x3fff, 0x1f_ffff, -1];
  for (let round = 0; round < 256; round++) putUvarint(scratch, 0, oneTwoThreeAndFiveBytes[round % 4]!);
}
