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
 * after it. One-byte varints go without the loop. Longer ones share one loop, whatever
 * their length: the first offset delta past 8,191 (a batch of 1 MiB of 100-byte records)
 * used to be the first call of a separate function for three bytes and more, and a call
 * the optimized code had never seen made V8 throw away the whole compiled append path
 * (this is inlined into it) and compile it again.
 */
export function putUvarint(buf: Buffer, offset: number, v: number): number {
  let n = v >>> 0;
  if (n < 0x80) {
    buf[offset] = n;
    return offset + 1;
  }
  let o = offset;
  do {
    buf[o++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  } while (n >= 0x80);
  buf[o++] = n;
  return o;
}
