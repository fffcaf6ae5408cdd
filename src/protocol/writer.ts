/**
 * Writes Kafka's primitive types, big-endian, into one Buffer.
 *
 * Callers that know the exact size up front (every request encoder does: see sizes.ts)
 * give it, and the writer never grows or copies. Growth exists for ad-hoc use only.
 */
import { ProtocolError } from '../errors.js';
import { copyBytes } from './copy-bytes.js';
import { sizeOfUvarint, sizeOfVarlong, sizeOfVarlongNumber } from './sizes.js';
import { uuidToBytes } from './uuid.js';

const INT64_MASK = (1n << 64n) - 1n;
const ZIGZAG_EXACT = 2 ** 52;

/**
 * UUIDs already decoded: every Produce request (v13 on) names each topic by its id, and
 * a producer writes to few topics, so decoding the same 22 characters for every request
 * (~1% of a busy producer's main thread) is work done once here.
 */
const decodedUuids = new Map<string, Buffer>();
const DECODED_UUIDS_KEPT = 1024;

function uuidBytes(uuid: string): Buffer {
  let bytes = decodedUuids.get(uuid);
  if (bytes === undefined) {
    // A copy of its own: Buffer.from's bytes are a slice of Node's shared 8 KiB pool, which
    // a kept slice would keep alive.
    bytes = Buffer.allocUnsafeSlow(16);
    uuidToBytes(uuid).copy(bytes);
    if (decodedUuids.size >= DECODED_UUIDS_KEPT) decodedUuids.clear();
    decodedUuids.set(uuid, bytes);
  }
  return bytes;
}

export class Writer {
  buf: Buffer;
  offset: number;

  constructor(sizeOrBuffer: number | Buffer = 256, offset = 0) {
    this.buf = typeof sizeOrBuffer === 'number' ? Buffer.allocUnsafe(sizeOrBuffer) : sizeOrBuffer;
    this.offset = offset;
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.offset);
  }

  protected ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.offset + n));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset);
    this.offset += 1;
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.offset);
    this.offset += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.offset);
    this.offset += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.offset);
    this.offset += 4;
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.offset);
    this.offset += 8;
  }

  /** int64 from a JavaScript number; exact for safe integers (timestamps, -1 sentinels). */
  int64Number(v: number): void {
    this.ensure(8);
    const high = Math.floor(v / 0x100000000);
    this.buf.writeInt32BE(high, this.offset);
    this.buf.writeUInt32BE(v - high * 0x100000000, this.offset + 4);
    this.offset += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.offset);
    this.offset += 8;
  }

  bool(v: boolean): void {
    this.int8(v ? 1 : 0);
  }

  /** Unsigned varint, up to 32 bits (lengths, counts, tags). */
  uvarint(v: number): void {
    if (this.offset + 5 > this.buf.length) this.ensure(sizeOfUvarint(v));
    let n = v >>> 0;
    while (n >= 0x80) {
      this.buf[this.offset++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.offset++] = n;
  }

  /** Zig-zag signed varint (int32). */
  varint(v: number): void {
    this.uvarint((v << 1) ^ (v >> 31));
  }

  /** Zig-zag signed varlong (int64). */
  varlong(v: bigint): void {
    if (this.offset + 10 > this.buf.length) this.ensure(sizeOfVarlong(v));
    let n = ((v << 1n) ^ (v >> 63n)) & INT64_MASK;
    while (n >= 0x80n) {
      this.buf[this.offset++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.offset++] = Number(n);
  }

  /** Zig-zag varlong from a safe-integer number, without BigInt (record timestamp deltas). */
  varlongNumber(v: number): void {
    // Beyond 2^52 the zig-zag doubling would lose the low bit in a double.
    if (v >= ZIGZAG_EXACT || v <= -ZIGZAG_EXACT) return this.varlong(BigInt(v));
    if (this.offset + 10 > this.buf.length) this.ensure(sizeOfVarlongNumber(v));
    let n = v >= 0 ? v * 2 : -v * 2 - 1;
    while (n >= 0x80) {
      this.buf[this.offset++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.offset++] = n;
  }

  uuid(v: string): void {
    this.ensure(16);
    uuidBytes(v).copy(this.buf, this.offset);
    this.offset += 16;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    copyBytes(this.buf, bytes, this.offset);
    this.offset += bytes.length;
  }

  private utf8(v: string, byteLength: number): void {
    this.ensure(byteLength);
    this.offset += this.buf.write(v, this.offset, byteLength, 'utf8');
  }

  /** STRING: int16 length, then UTF-8. */
  string(v: string): void {
    const n = Buffer.byteLength(v);
    if (n > 0x7fff) throw new ProtocolError(`string of ${n} bytes is over the int16 length limit`);
    this.int16(n);
    this.utf8(v, n);
  }

  /** NULLABLE_STRING: int16 length (-1 for null), then UTF-8. */
  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  /** COMPACT_STRING: unsigned varint length+1, then UTF-8. */
  compactString(v: string): void {
    const n = Buffer.byteLength(v);
    this.uvarint(n + 1);
    this.utf8(v, n);
  }

  /** COMPACT_NULLABLE_STRING: unsigned varint length+1 (0 for null), then UTF-8. */
  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  /** BYTES: int32 length, then the bytes. */
  bytes(v: Uint8Array): void {
    this.int32(v.length);
    this.raw(v);
  }

  /** NULLABLE_BYTES: int32 length (-1 for null), then the bytes. */
  nullableBytes(v: Uint8Array | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  /** COMPACT_BYTES: unsigned varint length+1, then the bytes. */
  compactBytes(v: Uint8Array): void {
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  /** COMPACT_NULLABLE_BYTES: unsigned varint length+1 (0 for null), then the bytes. */
  compactNullableBytes(v: Uint8Array | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }
}

/**
 * Byte fields this long are referenced by a ChunkedWriter, not copied. Each chunk is one
 * more write on the socket's stream, with Node's bookkeeping for it: a request of a
 * thousand small batches (many partitions) goes copied, in a few buffers.
 */
export const BY_REFERENCE_FROM = 32 * 1024;
/** What a ChunkedWriter without spare buffers allocates first, and at most when it runs out. */
const FIRST_BUFFER = 16 * 1024;
/** The size of the buffers a ChunkedWriter fills between referenced fields, and of the spare ones it reuses. */
export const CHUNK_BUFFER_BYTES = 64 * 1024;
/** Requests this small take a slice of Node's shared pool: a spare buffer is for copies bigger than that. */
const SMALL_REQUEST_BYTES = 4 * 1024;

/**
 * Buffers for ChunkedWriters to fill, given back once the socket has written them (a
 * connection keeps one set). A Produce request of many small batches (hundreds of
 * partitions) is mostly copies, and copied into fresh memory every time it cost more
 * than the copy: the kernel zeroes a page on its first touch, and those faults were 4-5%
 * of the main thread at 100 partitions.
 */
export class SpareBuffers {
  readonly #free: Buffer[] = [];
  readonly #max: number;

  /** `max`: spare buffers kept at most; more given back are left to the garbage collector. */
  constructor(max: number) {
    this.#max = max;
  }

  /** A buffer of CHUNK_BUFFER_BYTES, with whatever bytes it held before. */
  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BUFFER_BYTES);
  }

  /** Buffers from take(), no longer referenced by anything in flight. */
  give(buffers: readonly Buffer[]): void {
    for (const b of buffers) {
      if (this.#free.length >= this.#max) return;
      this.#free.push(b);
    }
  }

  /** Spare buffers kept now (for tests). */
  get size(): number {
    return this.#free.length;
  }
}

/**
 * A Writer whose output is a list of chunks: byte fields of BY_REFERENCE_FROM bytes or
 * more (a Produce request's record batches) become chunks of their own, referenced
 * rather than copied, and the rest goes into buffers between them. A Produce request of
 * a megabyte then costs a few hundred bytes of new memory instead of a megabyte that is
 * filled, written once and dropped (whose fresh pages the kernel zeroes first: about a
 * tenth of a busy producer's CPU went to that). With SpareBuffers, what is copied goes
 * into buffers used before. The socket writes the chunks in one writev.
 *
 * The referenced bytes must stay as they are until the chunks are written, and the
 * spare buffers taken (taken()) go back only then.
 */
export class ChunkedWriter extends Writer {
  readonly #chunks: Uint8Array[] = [];
  /** Bytes in #chunks. */
  #chunked = 0;
  #segmentStart = 0;
  readonly #total: number;
  readonly #spare: SpareBuffers | undefined;
  readonly #taken: Buffer[] = [];

  /** `total`: the bytes that will be written, referenced fields included. */
  constructor(total: number, spare?: SpareBuffers) {
    const fromSpare = spare !== undefined && total > SMALL_REQUEST_BYTES;
    super(fromSpare ? spare.take() : Math.max(1, Math.min(total, FIRST_BUFFER)));
    this.#total = total;
    this.#spare = spare;
    if (fromSpare) this.#taken.push(this.buf);
  }

  /** The chunks, in order; their lengths add up to everything written. */
  chunks(): Uint8Array[] {
    this.#cut();
    return this.#chunks;
  }

  /** The spare buffers this writer filled: give them back once its chunks are written. */
  taken(): Buffer[] {
    return this.#taken;
  }

  /** Everything written, in one buffer (a copy): Writer's finish() would give the last chunk only. */
  override finish(): Buffer {
    return Buffer.concat(this.chunks());
  }

  protected override ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    // Earlier chunks are views of the current buffer: continue in a new one instead of growing it.
    this.#cut();
    if (this.#spare && n <= CHUNK_BUFFER_BYTES) {
      this.buf = this.#spare.take();
      this.#taken.push(this.buf);
    } else {
      this.buf = Buffer.allocUnsafe(Math.max(n, Math.min(this.#total - this.#chunked, CHUNK_BUFFER_BYTES)));
    }
    this.offset = this.#segmentStart = 0;
  }

  override raw(bytes: Uint8Array): void {
    if (bytes.length < BY_REFERENCE_FROM) return super.raw(bytes);
    this.#cut();
    this.#push(bytes);
  }

  #cut(): void {
    if (this.offset > this.#segmentStart) this.#push(this.buf.subarray(this.#segmentStart, this.offset));
    this.#segmentStart = this.offset;
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#chunked += chunk.length;
  }
}
