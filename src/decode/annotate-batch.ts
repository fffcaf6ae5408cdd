/**
 * Byte-by-byte annotation of RecordBatch v2 bytes (a `records` field): the 61-byte
 * header field by field, then each record's varint fields and headers. The CRC is
 * checked and the computed value shown beside it. Compressed record sections are
 * decompressed and annotated too, with offsets into the decompressed block.
 *
 * Validation is the decoder's job (records/decode.ts); this walks the same layout only
 * to say where each byte is, and reports a problem as a node instead of stopping.
 */
import { ProtocolError } from '../errors.js';
import type { TraceNode } from '../protocol/codec.js';
import { CODEC_NAME } from '../protocol/compression/codecs.js';
import { Reader } from '../protocol/reader.js';
import { crc32c } from '../protocol/records/crc32c.js';

type Decompress = (codecId: number, data: Buffer) => Promise<Buffer>;

/** The smallest batch_length: the v2 header's 49 bytes after that field, no records. */
const MIN_BATCH_LENGTH = 49;

interface Field {
  readonly name: string;
  readonly type: string;
  read(r: Reader): unknown;
}

const int8 = (name: string): Field => ({ name, type: 'int8', read: (r) => r.int8() });
const int16 = (name: string): Field => ({ name, type: 'int16', read: (r) => r.int16() });
const int32 = (name: string): Field => ({ name, type: 'int32', read: (r) => r.int32() });
const int64 = (name: string): Field => ({ name, type: 'int64', read: (r) => r.int64() });

/** The v2 batch header, in wire order (Kafka's DefaultRecordBatch). */
const HEADER: readonly Field[] = [
  int64('base_offset'),
  int32('batch_length'),
  int32('partition_leader_epoch'),
  int8('magic'),
  { name: 'crc', type: 'uint32', read: (r) => r.uint32() },
  int16('attributes'),
  int32('last_offset_delta'),
  int64('base_timestamp'),
  int64('max_timestamp'),
  int64('producer_id'),
  int16('producer_epoch'),
  int32('base_sequence'),
  int32('records_count'),
];

function step(nodes: TraceNode[], r: Reader, base: number, name: string, type: string, read: () => unknown): unknown {
  const at = r.offset;
  const value = read();
  nodes.push({ field: name, offset: base + at, length: r.offset - at, type, value });
  return value;
}

/** Milliseconds since the epoch as an ISO date; undefined for -1 (no timestamp) and what no Date can hold. */
function dateOf(ms: number): string | undefined {
  // Date holds ±8.64e15 ms; toISOString throws past it, and a damaged batch may say anything.
  return ms >= 0 && ms <= 8.64e15 ? new Date(ms).toISOString() : undefined;
}

/** A batch timestamp with its date: `1764532800000 (2025-11-30T20:00:00.000Z)`. */
function withDate(ms: bigint): string {
  const date = dateOf(Number(ms));
  return date ? `${ms} (${date})` : ms === -1n ? '-1 (no timestamp)' : String(ms);
}

export function describeAttributes(attributes: number): string {
  const parts = [CODEC_NAME[attributes & 7] ?? `codec ${attributes & 7}`, attributes & 8 ? 'LogAppendTime' : 'CreateTime'];
  if (attributes & 16) parts.push('transactional');
  if (attributes & 32) parts.push('control');
  if (attributes & 64) parts.push('delete horizon');
  return `${attributes} (${parts.join(', ')})`;
}

/** Annotates the batches in `bytes`; `base` is where these bytes start in the whole input. */
export async function annotateRecordBatches(bytes: Buffer, base = 0, decompress?: Decompress): Promise<TraceNode[]> {
  const out: TraceNode[] = [];
  const input = new Reader(bytes);
  for (let i = 0; input.remaining > 0; i++) {
    const start = input.offset;
    if (input.remaining < 12) {
      out.push({ field: `partial batch (${input.remaining} bytes, not even a batch_length; a Fetch may cut the last one)`, offset: base + start, length: input.remaining, type: 'bytes', value: input.raw(input.remaining) });
      break;
    }
    const batchLength = bytes.readInt32BE(start + 8);
    if (batchLength < MIN_BATCH_LENGTH) {
      out.push({ field: `error: batch_length ${batchLength} is impossible (a RecordBatch v2 has at least ${MIN_BATCH_LENGTH} bytes after it); not a record batch from here on`, offset: base + start, length: input.remaining, type: 'bytes', value: input.raw(input.remaining) });
      break;
    }
    if (input.remaining < 12 + batchLength) {
      out.push({ field: `partial batch (its batch_length says ${12 + batchLength} bytes, ${input.remaining} are here; a Fetch may cut the last one)`, offset: base + start, length: input.remaining, type: 'bytes', value: input.raw(input.remaining) });
      break;
    }
    const r = input.sub(12 + batchLength, 'record batch');
    const kids: TraceNode[] = [];
    out.push({ field: `batch [${i}]`, offset: base + start, length: 12 + batchLength, type: 'RecordBatch v2', children: kids });
    const values: Record<string, unknown> = {};
    try {
      for (const f of HEADER) {
        values[f.name] = step(kids, r, base, f.name, f.type, () => f.read(r));
        if (f.name === 'magic' && values['magic'] !== 2) throw new ProtocolError(`magic ${String(values['magic'])}: only RecordBatch v2 (magic 2) is annotated`);
      }
      const crcNode = kids.find((n) => n.field === 'crc')!;
      const computed = crc32c(bytes, start + 21, start + 12 + batchLength);
      kids[kids.indexOf(crcNode)] = { ...crcNode, value: `0x${(crcNode.value as number).toString(16).padStart(8, '0')} (${computed === crcNode.value ? 'valid' : `INVALID: computed 0x${computed.toString(16).padStart(8, '0')}`})` };
      const attrNode = kids.find((n) => n.field === 'attributes')!;
      kids[kids.indexOf(attrNode)] = { ...attrNode, value: describeAttributes(values['attributes'] as number) };
      for (const field of ['base_timestamp', 'max_timestamp']) {
        const node = kids.find((n) => n.field === field)!;
        kids[kids.indexOf(node)] = { ...node, value: withDate(values[field] as bigint) };
      }
      const attributes = values['attributes'] as number;
      const codecId = attributes & 7;
      const count = values['records_count'] as number;
      const baseTimestamp = Number(values['base_timestamp']);
      if (codecId === 0) {
        kids.push(...annotateRecords(r, base, count, baseTimestamp));
        recordsLeftOver(kids, r, base, count);
      } else {
        const sectionAt = r.offset;
        const section = r.raw(r.remaining);
        const records: TraceNode[] = [];
        kids.push({ field: `records (${CODEC_NAME[codecId]}-compressed; offsets below are into the decompressed block)`, offset: base + sectionAt, length: section.length, type: 'bytes', children: records });
        if (!decompress) records.push({ field: 'not decompressed (no codec given)', offset: base + sectionAt, length: section.length, type: 'bytes', value: section });
        else {
          const block = new Reader(await decompress(codecId, section));
          records.push(...annotateRecords(block, 0, count, baseTimestamp));
          recordsLeftOver(records, block, 0, count);
        }
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      kids.push({ field: `error: ${err.message}`, offset: base + r.offset, length: r.remaining, type: 'bytes', value: r.buf.subarray(r.offset, r.end) });
    }
  }
  return out;
}

/** What records_count and the bytes disagree on, as an error node: fewer records, or bytes after the last. */
function recordsLeftOver(nodes: TraceNode[], r: Reader, base: number, count: number): void {
  const found = nodes.filter((n) => n.field.startsWith('record [')).length;
  if (found < count) {
    nodes.push({ field: `error: records_count says ${count}, the bytes hold ${found}`, offset: base + r.offset, length: 0, type: 'bytes' });
  } else if (r.remaining > 0) {
    nodes.push({ field: `error: ${r.remaining} bytes after the last of records_count's ${count} records`, offset: base + r.offset, length: r.remaining, type: 'bytes', value: r.raw(r.remaining) });
  }
}

function annotateRecords(r: Reader, base: number, count: number, baseTimestamp: number): TraceNode[] {
  const out: TraceNode[] = [];
  for (let i = 0; i < count && r.remaining > 0; i++) {
    const start = r.offset;
    const kids: TraceNode[] = [];
    const length = step(kids, r, base, 'length', 'varint', () => r.varint()) as number;
    const rec = r.sub(length, `record ${i}`);
    step(kids, rec, base, 'attributes', 'int8', () => rec.int8());
    const delta = step(kids, rec, base, 'timestamp_delta', 'varlong', () => rec.varlongNumber()) as number;
    kids[kids.length - 1] = { ...kids[kids.length - 1]!, value: `${delta} (${dateOf(baseTimestamp + delta) ?? 'no date'})` };
    step(kids, rec, base, 'offset_delta', 'varint', () => rec.varint());
    nullableBytes(kids, rec, base, 'key');
    nullableBytes(kids, rec, base, 'value');
    const headerCount = step(kids, rec, base, 'headers_count', 'varint', () => rec.varint()) as number;
    for (let h = 0; h < headerCount; h++) {
      const hAt = rec.offset;
      const hKids: TraceNode[] = [];
      const keyLength = step(hKids, rec, base, 'header_key_length', 'varint', () => rec.varint()) as number;
      step(hKids, rec, base, 'header_key', 'utf8', () => rec.raw(keyLength).toString('utf8'));
      nullableBytes(hKids, rec, base, 'header_value');
      kids.push({ field: `header [${h}]`, offset: base + hAt, length: rec.offset - hAt, type: 'struct', children: hKids });
    }
    out.push({ field: `record [${i}]`, offset: base + start, length: r.offset - start, type: 'Record', children: kids });
  }
  return out;
}

function nullableBytes(kids: TraceNode[], r: Reader, base: number, name: string): void {
  const length = step(kids, r, base, `${name}_length`, 'varint', () => r.varint()) as number;
  if (length >= 0) step(kids, r, base, name, 'bytes', () => r.raw(length));
}
