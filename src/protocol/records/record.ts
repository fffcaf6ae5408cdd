/**
 * One record inside a RecordBatch v2, as the producer writes it:
 *
 *   length            varint   bytes of everything below
 *   attributes        int8     0 (no record attribute is defined yet)
 *   timestampDelta    varlong  timestamp - batch baseTimestamp
 *   offsetDelta       varint   index of the record in its batch
 *   keyLength         varint   -1 for a null key
 *   key               bytes
 *   valueLength       varint   -1 for a null value
 *   value             bytes
 *   headerCount       varint
 *   headers           headerKeyLength varint, headerKey UTF-8,
 *                     headerValueLength varint (-1 for null), headerValue
 *
 * The producer accounts for a record's size before writing it (to know whether it fits
 * the batch), so `measureRecord` and `writeRecord` must agree to the byte: they share
 * sizeOfRecordBody, and writeRecord checks every record it writes against its size.
 */
import { ProtocolError } from '../../errors.js';
import { copyBytes } from '../copy-bytes.js';
import { sizeOfVarlongNumber } from '../sizes.js';
import { Writer } from '../writer.js';
import { putUvarint, uvarintSize, zigzag } from './varint.js';

/** Strings are written as UTF-8. */
export type RecordBytes = Buffer | Uint8Array | string;

export interface RecordHeaderInput {
  key: string;
  value: RecordBytes | null;
}

/**
 * An array keeps duplicate keys and their order; an object is shorter to write. Objects
 * follow JavaScript's key order, which puts integer-like keys ("2") first.
 */
export type RecordHeadersInput = readonly RecordHeaderInput[] | Readonly<Record<string, RecordBytes | null>>;

export interface RecordInput {
  /** Absent or null: no key. */
  key?: RecordBytes | null;
  value: RecordBytes | null;
  headers?: RecordHeadersInput;
  /** Milliseconds since the epoch (CreateTime); the builder's clock when absent. */
  timestamp?: number;
}

/** Bytes a key, value or header value takes on the wire; -1 (the null marker) for null. */
export function byteLengthOf(v: RecordBytes | null | undefined): number {
  if (v === null || v === undefined) return -1;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/**
 * Header byte lengths, measured before the record's length prefix is written and reused
 * to write the headers, so that each string's UTF-8 length is computed once. It only
 * grows, when a record has more headers than any before it.
 */
export class HeaderScratch {
  count = 0;
  keyLengths = new Int32Array(8);
  valueLengths = new Int32Array(8);

  /** Bytes the headers take, headerCount included. */
  measure(headers: RecordHeadersInput): number {
    this.count = 0;
    let size = 0;
    if (isHeaderArray(headers)) {
      for (let i = 0; i < headers.length; i++) {
        const h = headers[i]!;
        size += this.#measureOne(h.key, h.value);
      }
    } else {
      for (const key in headers) {
        if (Object.hasOwn(headers, key)) size += this.#measureOne(key, headers[key]);
      }
    }
    return uvarintSize(zigzag(this.count)) + size;
  }

  /** Writes the headers last measured (headerCount included) and returns the offset after them. */
  write(buf: Buffer, offset: number, headers: RecordHeadersInput): number {
    let o = putUvarint(buf, offset, zigzag(this.count));
    let i = 0;
    if (isHeaderArray(headers)) {
      for (; i < headers.length; i++) {
        const h = headers[i]!;
        o = this.#writeOne(buf, o, i, h.key, h.value);
      }
    } else {
      for (const key in headers) {
        if (Object.hasOwn(headers, key)) o = this.#writeOne(buf, o, i++, key, headers[key]);
      }
    }
    return o;
  }

  #measureOne(key: string, value: RecordBytes | null | undefined): number {
    const i = this.count++;
    if (i === this.keyLengths.length) this.#grow();
    const keyLength = Buffer.byteLength(key, 'utf8');
    const valueLength = byteLengthOf(value);
    this.keyLengths[i] = keyLength;
    this.valueLengths[i] = valueLength;
    return uvarintSize(zigzag(keyLength)) + keyLength + uvarintSize(zigzag(valueLength)) + (valueLength > 0 ? valueLength : 0);
  }

  #writeOne(buf: Buffer, offset: number, i: number, key: string, value: RecordBytes | null | undefined): number {
    const keyLength = this.keyLengths[i]!;
    const valueLength = this.valueLengths[i]!;
    let o = putUvarint(buf, offset, zigzag(keyLength));
    if (keyLength > 0) o = putBytes(buf, o, key, keyLength);
    o = putUvarint(buf, o, zigzag(valueLength));
    if (valueLength > 0) o = putBytes(buf, o, value!, valueLength);
    return o;
  }

  #grow(): void {
    const keys = new Int32Array(this.keyLengths.length * 2);
    const values = new Int32Array(keys.length);
    keys.set(this.keyLengths);
    values.set(this.valueLengths);
    this.keyLengths = keys;
    this.valueLengths = values;
  }
}

/** Size of a record's fields after its length prefix. */
function sizeOfRecordBody(timestampDelta: number, offsetDelta: number, keyLength: number, valueLength: number, headersSize: number): number {
  return (
    1 + // attributes
    (isSmallDelta(timestampDelta) ? uvarintSize(zigzag(timestampDelta)) : sizeOfVarlongNumber(timestampDelta)) +
    uvarintSize(zigzag(offsetDelta)) +
    uvarintSize(zigzag(keyLength)) +
    (keyLength > 0 ? keyLength : 0) +
    uvarintSize(zigzag(valueLength)) +
    (valueLength > 0 ? valueLength : 0) +
    headersSize
  );
}

/**
 * Size of `record` with its length prefix; `headers` keeps what it measured of the
 * headers for a `writeRecord` of the same record that follows.
 */
export function measureRecord(record: RecordInput, timestampDelta: number, offsetDelta: number, headers: HeaderScratch): number {
  const headersSize = record.headers === undefined ? 1 : headers.measure(record.headers);
  const body = sizeOfRecordBody(timestampDelta, offsetDelta, byteLengthOf(record.key), byteLengthOf(record.value), headersSize);
  // Lengths are int32 varints. (writeRecord needs no such check: no batch is this big.)
  if (body > 0x7fffffff) throw new RangeError(`a record of ${body} bytes is over the 2 GiB the record format allows`);
  return uvarintSize(zigzag(body)) + body;
}

/**
 * Writes `record` at `offset` and returns the offset after it, or -1, having written
 * nothing, if it would end beyond `limit`.
 *
 * This is the producer's hottest path, shaped for V8 (bench/encode.ts measures it):
 * - it writes into the Buffer directly: the whole record is checked against `limit`
 *   once, so a Writer's per-field growth checks would be pure cost;
 * - it is one function with only tiny helpers, which V8 compiles on its own with all
 *   of them inlined (with byteLengthOf, putBytes and sizeOfRecordBody as calls, the
 *   encode was about 15% slower);
 * - the common record, a serialized value (and key, or none) without headers, takes a
 *   path free of the string and header cases (about 15% faster again).
 * Both paths check that they wrote exactly the size they computed, which is the size
 * `measureRecord` computes (the tests hold them to it), so a disagreement cannot
 * corrupt a batch silently.
 */
export function writeRecord(
  buf: Buffer,
  offset: number,
  limit: number,
  record: RecordInput,
  timestampDelta: number,
  offsetDelta: number,
  scratch: HeaderScratch,
): number {
  const key = record.key;
  const value = record.value;
  const headers = record.headers;
  let o: number;
  let end: number;

  if ((key === null || key === undefined || isByteArray(key)) && isByteArray(value) && headers === undefined && isSmallDelta(timestampDelta)) {
    // A null key's length is -1, zig-zag 1; every other length here is >= 0, where
    // zig-zag encoding is a plain doubling.
    const keyLength = key ? key.length : 0;
    const keyField = key ? keyLength << 1 : 1;
    const valueLength = value.length;
    const body =
      1 + // attributes
      uvarintSize(zigzag(timestampDelta)) +
      uvarintSize(offsetDelta << 1) +
      uvarintSize(keyField) +
      keyLength +
      uvarintSize(valueLength << 1) +
      valueLength +
      1; // headerCount
    end = offset + uvarintSize(body << 1) + body;
    if (end > limit) return -1;

    o = putUvarint(buf, offset, body << 1); // length
    buf[o++] = 0; // attributes
    o = putUvarint(buf, o, zigzag(timestampDelta));
    o = putUvarint(buf, o, offsetDelta << 1);
    o = putUvarint(buf, o, keyField);
    if (key) {
      copyBytes(buf, key, o);
      o += keyLength;
    }
    o = putUvarint(buf, o, valueLength << 1);
    copyBytes(buf, value, o);
    o += valueLength;
    buf[o++] = 0; // headerCount
  } else {
    // byteLengthOf and putBytes, written out.
    const keyLength = key === null || key === undefined ? -1 : typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.length;
    const valueLength =
      value === null || value === undefined ? -1 : typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
    const headersSize = headers === undefined ? 1 : scratch.measure(headers);
    const body = sizeOfRecordBody(timestampDelta, offsetDelta, keyLength, valueLength, headersSize);
    end = offset + uvarintSize(zigzag(body)) + body;
    if (end > limit) return -1;

    o = putUvarint(buf, offset, zigzag(body)); // length
    buf[o++] = 0; // attributes
    o = isSmallDelta(timestampDelta) ? putUvarint(buf, o, zigzag(timestampDelta)) : putVarlong(buf, o, timestampDelta);
    o = putUvarint(buf, o, zigzag(offsetDelta));
    o = putUvarint(buf, o, zigzag(keyLength));
    if (keyLength > 0) {
      if (typeof key === 'string') writeUtf8(buf, key, o, keyLength);
      else copyBytes(buf, key!, o);
      o += keyLength;
    }
    o = putUvarint(buf, o, zigzag(valueLength));
    if (valueLength > 0) {
      if (typeof value === 'string') writeUtf8(buf, value, o, valueLength);
      else copyBytes(buf, value!, o);
      o += valueLength;
    }
    if (headers === undefined) buf[o++] = 0; // headerCount
    else o = scratch.write(buf, o, headers);
  }

  if (o !== end) throw new ProtocolError(`record ${offsetDelta}: predicted ${end - offset} bytes, wrote ${o - offset}`);
  return o;
}

function isByteArray(v: RecordBytes | null | undefined): v is Uint8Array {
  return typeof v === 'object' && v !== null;
}

function isHeaderArray(headers: RecordHeadersInput): headers is readonly RecordHeaderInput[] {
  return Array.isArray(headers);
}

/**
 * Timestamp deltas are varlongs. The ones a producer makes (milliseconds within a
 * batch) zig-zag into 32 bits, where the varint code applies; others take the Writer's
 * exact double arithmetic.
 */
function isSmallDelta(delta: number): boolean {
  return delta < 0x40000000 && delta >= -0x40000000;
}

function putVarlong(buf: Buffer, offset: number, delta: number): number {
  const w = new Writer(buf, offset);
  w.varlongNumber(delta);
  return w.offset;
}

/**
 * Buffer's own UTF-8 writer, under Buffer.write's argument handling: Buffer.write cost
 * twice as much for the short strings of keys and headers (226 against 116 ns for a
 * 20-character header, Node 20), and a record with 20 headers writes 40 of them. Present
 * on every Node Buffer since 0.x, if undocumented; Buffer.write where it is not.
 */
const utf8Write = (Buffer.prototype as unknown as { utf8Write?: (s: string, offset: number, length: number) => number }).utf8Write;

/** Writes `s`, whose UTF-8 byte length is `length`, at `offset`. */
function writeUtf8(buf: Buffer, s: string, offset: number, length: number): void {
  if (length === s.length && length <= 64) {
    for (let i = 0; i < length; i++) buf[offset + i] = s.charCodeAt(i);
  } else if (utf8Write !== undefined) utf8Write.call(buf, s, offset, length);
  else buf.write(s, offset, length, 'utf8');
}

/** `length` is the measured byte length, so strings are encoded once, straight into place. */
function putBytes(buf: Buffer, offset: number, v: RecordBytes, length: number): number {
  if (typeof v === 'string') writeUtf8(buf, v, offset, length);
  else copyBytes(buf, v, offset);
  return offset + length;
}

const sizing = new HeaderScratch();

/**
 * Exact bytes a record takes in a batch, length prefix included. The deltas are part of
 * the record, so its size depends on where it sits: `timestampDelta` is its timestamp
 * minus the batch's first, `offsetDelta` its index.
 */
export function sizeOfRecord(record: RecordInput, timestampDelta: number, offsetDelta: number): number {
  return measureRecord(record, timestampDelta, offsetDelta, sizing);
}
