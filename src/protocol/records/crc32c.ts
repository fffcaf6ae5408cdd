/**
 * CRC-32C (Castagnoli), the checksum RecordBatch v2 carries. Not the zlib CRC-32: Kafka
 * switched polynomials with magic 2 because CPUs have an instruction for this one.
 */
import CRC32C from 'crc-32/crc32c.js';

/** CRC-32C of `bytes[start, end)`, unsigned (as the batch header stores it). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const range = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  // The library returns the checksum as a signed int32.
  return CRC32C.buf(range, 0) >>> 0;
}
