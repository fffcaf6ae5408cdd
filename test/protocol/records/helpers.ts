import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { stampCrc, writeBatchHeader } from '../../../src/protocol/records/batch-header.js';
import { ATTRIBUTES_OFFSET, BASE_OFFSET_OFFSET } from '../../../src/protocol/records/layout.js';
import type { DecodedRecord } from '../../../src/protocol/records/decode.js';
import type { RecordBytes, RecordHeadersInput, RecordInput } from '../../../src/protocol/records/record.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Stands in for the compression module: gzip only, as the tests inject it. */
export async function compressGzip(codecId: number, data: Buffer): Promise<Buffer> {
  if (codecId !== 1) throw new Error(`test compressor has no codec ${codecId}`);
  return gzipAsync(data);
}

export async function decompressGzip(codecId: number, data: Buffer): Promise<Buffer> {
  if (codecId !== 1) throw new Error(`test decompressor has no codec ${codecId}`);
  return gunzipAsync(data);
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex');

/** CRC-32C bit by bit from the polynomial, independent of the table-driven library. */
export function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A copy of `batch` with attribute bits set, as a broker would write them, CRC fixed. */
export function withAttributeBits(batch: Buffer, bits: number): Buffer {
  const out = Buffer.from(batch);
  out.writeInt16BE(out.readInt16BE(ATTRIBUTES_OFFSET) | bits, ATTRIBUTES_OFFSET);
  stampCrc(out);
  return out;
}

/** Brokers assign baseOffset; it is outside the CRC. */
export function withBaseOffset(batch: Buffer, baseOffset: bigint): Buffer {
  const out = Buffer.from(batch);
  out.writeBigInt64BE(baseOffset, BASE_OFFSET_OFFSET);
  return out;
}

const bytesOf = (v: RecordBytes | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);

function headersOf(headers: RecordHeadersInput | undefined): Array<{ key: string; value: Buffer | null }> {
  if (headers === undefined) return [];
  if (Array.isArray(headers)) return headers.map((h: { key: string; value: RecordBytes | null }) => ({ key: h.key, value: bytesOf(h.value) }));
  return Object.keys(headers).map((key) => ({ key, value: bytesOf((headers as Record<string, RecordBytes | null>)[key]) }));
}

/** What decoding an encoded `record` at `index` must give back. */
export function expectedRecord(record: RecordInput, index: number, defaultTimestamp: number, baseOffset = 0n): DecodedRecord {
  return {
    offset: baseOffset + BigInt(index),
    timestamp: record.timestamp ?? defaultTimestamp,
    key: bytesOf(record.key),
    value: bytesOf(record.value),
    headers: headersOf(record.headers),
  };
}

/**
 * Decoded records with their bytes as hex, for toEqual: comparing 100 KB Buffers byte
 * by byte through the matcher's generic equality takes seconds.
 */
export function comparable(records: readonly DecodedRecord[]): unknown[] {
  const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('hex'));
  return records.map((r) => ({
    ...r,
    key: text(r.key),
    value: text(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
  }));
}

/** A batch around a hand-made records section, with a valid header and CRC. */
export function rawBatch(records: Buffer, recordCount: number, attributes = 0): Buffer {
  const batch = Buffer.concat([Buffer.alloc(61), records]);
  writeBatchHeader(batch, {
    baseOffset: 0,
    partitionLeaderEpoch: -1,
    attributes,
    lastOffsetDelta: recordCount - 1,
    baseTimestamp: 1000,
    maxTimestamp: 2000,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    recordCount,
  });
  return batch;
}
