/**
 * Exact encoded sizes of Kafka's primitive types, so that every encoder can allocate
 * the right number of bytes once and the producer can account for bytes before writing.
 */
import { uvarintSize } from './records/varint.js';

/**
 * Without branches (records/varint.ts): as a chain of compares, each optimized caller was
 * deoptimized and compiled again the first time a longer varint came (a batch past 16 KiB,
 * a request past 2 MiB), which a producer's first seconds paid several times over.
 */
export function sizeOfUvarint(v: number): number {
  return uvarintSize(v);
}

export function sizeOfVarint(v: number): number {
  return sizeOfUvarint((v << 1) ^ (v >> 31));
}

export function sizeOfVarlongNumber(v: number): number {
  if (v >= 2 ** 52 || v <= -(2 ** 52)) return sizeOfVarlong(BigInt(v));
  let n = v >= 0 ? v * 2 : -v * 2 - 1;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export function sizeOfVarlong(v: bigint): number {
  let n = ((v << 1n) ^ (v >> 63n)) & ((1n << 64n) - 1n);
  let size = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    size++;
  }
  return size;
}

export function sizeOfString(v: string): number {
  return 2 + Buffer.byteLength(v);
}

export function sizeOfNullableString(v: string | null): number {
  return v === null ? 2 : sizeOfString(v);
}

export function sizeOfCompactString(v: string): number {
  const n = Buffer.byteLength(v);
  return sizeOfUvarint(n + 1) + n;
}

export function sizeOfCompactNullableString(v: string | null): number {
  return v === null ? 1 : sizeOfCompactString(v);
}

export function sizeOfBytes(v: Uint8Array): number {
  return 4 + v.length;
}

export function sizeOfNullableBytes(v: Uint8Array | null): number {
  return v === null ? 4 : 4 + v.length;
}

export function sizeOfCompactBytes(v: Uint8Array): number {
  return sizeOfUvarint(v.length + 1) + v.length;
}

export function sizeOfCompactNullableBytes(v: Uint8Array | null): number {
  return v === null ? 1 : sizeOfCompactBytes(v);
}
