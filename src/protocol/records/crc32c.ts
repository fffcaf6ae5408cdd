/**
 * CRC-32C (Castagnoli), the checksum RecordBatch v2 carries. Not the zlib CRC-32: Kafka
 * switched polynomials with magic 2 because CPUs have an instruction for this one.
 *
 * Two implementations give the same numbers: `crc-32` (JavaScript, table-driven, about
 * 1.4 GB/s here) and, when the optional package `@node-rs/crc32` is installed, its native
 * crc32c (about 5-6 GB/s on 4 KiB and up on the Xeon, 3.2 GB/s at 256 KiB on the AMD EPYC,
 * where a plain loop of the SSE 4.2 instruction in C does 7.8: bench/README.md, sixteenth
 * round). A native call
 * costs ~180 ns before it reads a byte, so ranges shorter than NATIVE_FROM stay in
 * JavaScript. A producer of 100-byte records spends about a fifth of its main-thread time
 * in this function with the JavaScript one alone (bench/README.md, "flame notes").
 *
 * KAFKA_WIRE_CRC32C=js in the environment keeps the JavaScript one (for comparisons).
 */
import { createRequire } from 'node:module';
import CRC32C from 'crc-32/crc32c.js';

/** Shorter ranges are faster in JavaScript than through a native call (measured: break-even ~300 bytes). */
const NATIVE_FROM = 512;

type Crc32c = (bytes: Uint8Array, initial?: number) => number;

/** The checksum of "123456789", the standard check value of CRC-32C. */
const CHECK_INPUT = Buffer.from('123456789', 'latin1');
const CHECK_VALUE = 0xe3069283;

const native = loadNative();

/** Which implementation checksums ranges of NATIVE_FROM bytes and more. */
export const crc32cImplementation: 'native (@node-rs/crc32)' | 'javascript (crc-32)' = native ? 'native (@node-rs/crc32)' : 'javascript (crc-32)';

function loadNative(): Crc32c | undefined {
  if (process.env['KAFKA_WIRE_CRC32C'] === 'js') return undefined;
  try {
    const exports = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown };
    const fn = exports.crc32c;
    // A version with another API, or a build that computes something else, is not used.
    if (typeof fn !== 'function') return undefined;
    const crc = fn as Crc32c;
    return crc(CHECK_INPUT) >>> 0 === CHECK_VALUE ? crc : undefined;
  } catch {
    return undefined;
  }
}

/** CRC-32C of `bytes[start, end)`, unsigned (as the batch header stores it). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const range = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  // crc-32 returns the checksum as a signed int32.
  if (native !== undefined && end - start >= NATIVE_FROM) return native(range) >>> 0;
  return CRC32C.buf(range, 0) >>> 0;
}
