/**
 * Kafka's keyed partitioning: the 32-bit murmur2 hash exactly as the Java client computes it
 * (`Utils.murmur2`), so a record with a given key lands on the same partition whichever client
 * produced it. Consumers and compacted topics rely on that, so this must stay bit-identical to Java,
 * including Java's signed int results.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * murmur2 of `bytes[start..end)`, as a signed 32-bit integer like Java's `int`.
 *
 * Takes a range so the producer can hash key bytes where they already lie (in a batch buffer)
 * without copying or allocating a view.
 */
export function murmur2(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  // Out-of-range reads on a typed array yield undefined, which the bit operations below would
  // silently turn into 0: a wrong hash, not an error. So the range is checked up front.
  if (!(start >= 0 && start <= end && end <= bytes.length) || (start | 0) !== start || (end | 0) !== end) {
    throw new RangeError(`murmur2: range [${start}, ${end}) is not within 0..${bytes.length}`);
  }
  const length = end - start;
  let h = SEED ^ length;
  const blocksEnd = start + (length & ~3);
  let i = start;
  for (; i < blocksEnd; i += 4) {
    // Little-endian, as Java assembles each block from unsigned bytes.
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch falls through, so a 3-byte tail mixes in all three bytes.
  switch (length & 3) {
    case 3:
      h ^= bytes[i + 2]! << 16;
    // falls through
    case 2:
      h ^= bytes[i + 1]! << 8;
    // falls through
    case 1:
      h ^= bytes[i]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Java's `Utils.toPositive`: clears the sign bit. Not `Math.abs`, which differs for negative
 * numbers and would send keys to other partitions than Java does.
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/**
 * The partition Java's producer picks for a keyed record (`BuiltInPartitioner.partitionForKey`):
 * the hash over all partitions of the topic, available or not, so a key's partition depends
 * only on the partition count.
 */
export function keyedPartition(keyBytes: Uint8Array, numPartitions: number, start = 0, end: number = keyBytes.length): number {
  if (!(numPartitions >= 1) || (numPartitions | 0) !== numPartitions) {
    throw new RangeError(`keyedPartition: partition count must be a positive integer, got ${numPartitions}`);
  }
  return toPositive(murmur2(keyBytes, start, end)) % numPartitions;
}
