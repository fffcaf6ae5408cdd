/**
 * Reads Kafka's primitive types from bytes that must not be trusted.
 *
 * Every length and count is checked against the bytes that are left before anything is
 * allocated, so a frame that claims a 2 GiB string costs nothing but a ProtocolError.
 * Byte fields are returned as views into the input (no copy); copy them if you keep
 * them longer than the input buffer.
 */
import { ProtocolError } from '../errors.js';
import { uuidFromBytes, ZERO_UUID } from './uuid.js';

/** The UUID Reader.uuid read last, as bytes and as text. */
const lastUuidBytes = Buffer.alloc(16);
let lastUuid = ZERO_UUID;

export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;
  /** Over the same bytes as `buf`, made when first needed (int64s). */
  #dataView: DataView | undefined;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
    this.end = end;
  }

  #view(): DataView {
    return (this.#dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless `n` more bytes are there; `what` names the thing being read. */
  need(n: number, what: string): void {
    if (n > this.end - this.offset) {
      throw new ProtocolError(
        `truncated input: ${what} needs ${n} bytes at offset ${this.offset}, ${this.end - this.offset} left`,
        { offset: this.offset },
      );
    }
  }

  /** A reader over the next `n` bytes, which this reader then skips. */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.offset, this.offset + n);
    this.offset += n;
    return r;
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.offset++);
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int64(): bigint {
    this.need(8, 'int64');
    // A DataView's getBigInt64 is a TurboFan intrinsic: several times cheaper than
    // Buffer's readBigInt64BE, which builds the value from two halves in JavaScript.
    const v = this.#view().getBigInt64(this.offset);
    this.offset += 8;
    return v;
  }
  /** int64 as a number: exact for safe integers (timestamps, offsets below 2^53). */
  int64Number(): number {
    this.need(8, 'int64');
    const v = this.buf.readInt32BE(this.offset) * 0x100000000 + this.buf.readUInt32BE(this.offset + 4);
    this.offset += 8;
    return v;
  }

  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  /** Unsigned varint of at most 5 bytes (32 bits), as Kafka's ByteUtils reads it. */
  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (this.offset >= this.end) this.need(1, 'varint');
      const b = this.buf[this.offset++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 0x80;
    }
    throw new ProtocolError(`malformed varint: more than 5 bytes at offset ${this.offset - 5}`, {
      offset: this.offset - 5,
    });
  }

  /** Zig-zag signed varint (int32). */
  varint(): number {
    const u = this.uvarint() >>> 0;
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zig-zag signed varlong (int64), up to 10 bytes. */
  varlong(): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) this.need(1, 'varlong');
      const b = this.buf[this.offset++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asIntN(64, (value >> 1n) ^ -(value & 1n));
      shift += 7n;
    }
    throw new ProtocolError(`malformed varlong: more than 10 bytes at offset ${this.offset - 10}`, {
      offset: this.offset - 10,
    });
  }

  /** Zig-zag varlong as a number; fails on values outside the safe-integer range. */
  varlongNumber(): number {
    const start = this.offset;
    let value = 0;
    let scale = 1;
    // Seven groups (49 bits) always fit a double exactly; longer ones take the bigint path.
    for (let i = 0; i < 7; i++) {
      if (this.offset >= this.end) this.need(1, 'varlong');
      const b = this.buf[this.offset++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      scale *= 0x80;
    }
    this.offset = start;
    const big = this.varlong();
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ProtocolError(`varlong ${big} at offset ${start} is beyond the safe integer range`, { offset: start });
    }
    return Number(big);
  }

  uuid(): string {
    this.need(16, 'uuid');
    const buf = this.buf;
    const at = this.offset;
    this.offset += 16;
    // Every Produce answer (v13 on) names its topics by id, mostly the one read last: the
    // same 16 bytes need not become the same 22 characters again.
    let same = true;
    for (let i = 0; i < 16; i++) {
      if (buf[at + i] !== lastUuidBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastUuid;
    buf.copy(lastUuidBytes, 0, at, at + 16);
    lastUuid = uuidFromBytes(lastUuidBytes);
    return lastUuid;
  }

  /** The next `n` bytes as a view. */
  raw(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  private utf8(n: number, what: string): string {
    this.need(n, what);
    const v = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  private badLength(n: number, what: string, at: number): never {
    throw new ProtocolError(`invalid ${what} length ${n} at offset ${at}`, { offset: at });
  }

  /** STRING: int16 length, then UTF-8. */
  string(): string {
    const at = this.offset;
    const n = this.int16();
    if (n < 0) this.badLength(n, 'non-nullable string', at);
    return this.utf8(n, 'string');
  }

  /** NULLABLE_STRING: int16 length, -1 for null. */
  nullableString(): string | null {
    const at = this.offset;
    const n = this.int16();
    if (n === -1) return null;
    if (n < 0) this.badLength(n, 'string', at);
    return this.utf8(n, 'string');
  }

  /** COMPACT_STRING: unsigned varint length+1. */
  compactString(): string {
    const at = this.offset;
    const n = this.uvarint();
    if (n === 0) this.badLength(-1, 'non-nullable compact string', at);
    return this.utf8(n - 1, 'compact string');
  }

  /** COMPACT_NULLABLE_STRING: unsigned varint length+1, 0 for null. */
  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1, 'compact string');
  }

  /** BYTES: int32 length. */
  bytes(): Buffer {
    const at = this.offset;
    const n = this.int32();
    if (n < 0) this.badLength(n, 'non-nullable bytes', at);
    return this.raw(n);
  }

  /** NULLABLE_BYTES: int32 length, -1 for null. */
  nullableBytes(): Buffer | null {
    const at = this.offset;
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0) this.badLength(n, 'bytes', at);
    return this.raw(n);
  }

  /** COMPACT_BYTES: unsigned varint length+1. */
  compactBytes(): Buffer {
    const at = this.offset;
    const n = this.uvarint();
    if (n === 0) this.badLength(-1, 'non-nullable compact bytes', at);
    return this.raw(n - 1, 'compact bytes');
  }

  /** COMPACT_NULLABLE_BYTES: unsigned varint length+1, 0 for null. */
  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.raw(n - 1, 'compact bytes');
  }

  /**
   * An array element count, checked before anything is allocated: each element takes at
   * least `minElementSize` bytes, so a count the remaining bytes cannot hold is a lie.
   * Returns -1 for a null array.
   */
  arrayLength(compact: boolean, minElementSize: number): number {
    const at = this.offset;
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < -1) this.badLength(n, 'array', at);
    if (n > 0 && n * minElementSize > this.end - this.offset) {
      throw new ProtocolError(
        `array at offset ${at} claims ${n} elements of at least ${minElementSize} bytes, ${this.end - this.offset} bytes left`,
        { offset: at },
      );
    }
    return n;
  }
}
