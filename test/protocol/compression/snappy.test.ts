import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { CODEC_ID, compress, decompress, DecompressionLimitError } from '../../../src/protocol/compression/index.js';
import { KAFKA_SNAPPY, pattern } from './fixtures.js';

const SNAPPY = CODEC_ID.snappy;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** "\x82SNAPPY\0", version 1, compatible version 1. */
const XERIAL_HEADER = '82534e4150505900 00000001 00000001';

// Raw snappy blocks written by hand from the format description
// (https://github.com/google/snappy/blob/main/format_description.txt):
// varint uncompressed length, then elements.
const RAW_HELLO = hex('05 10 68656c6c6f'); // 5; literal of 5: tag (5-1)<<2
const RAW_ABC_X3 = hex('09 08 616263 09 03'); // 9; literal "abc"; copy len 6 at offset 3: tag 01 | (6-4)<<2

/** Each chunk's declared uncompressed length, read from the raw block's varint (all < 2^21 here). */
function chunkLengths(xerial: Buffer): number[] {
  const lengths: number[] = [];
  for (let at = 16; at < xerial.length; ) {
    const size = xerial.readInt32BE(at);
    let value = 0;
    for (let i = 0, byte = 0x80; byte & 0x80; i++) {
      byte = xerial.readUInt8(at + 4 + i);
      value += (byte & 0x7f) * 2 ** (7 * i);
    }
    lengths.push(value);
    at += 4 + size;
  }
  return lengths;
}

function xerialChunk(rawBlock: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(rawBlock.length);
  return Buffer.concat([length, rawBlock]);
}

describe('snappy writing (xerial framing)', () => {
  it('writes the 16-byte xerial header and nothing else for empty input, as Java does', async () => {
    expect((await compress(SNAPPY, Buffer.alloc(0))).equals(hex(XERIAL_HEADER))).toBe(true);
  });

  it('writes one length-prefixed raw block per chunk', async () => {
    // Byte-identical to snappy-java's output for the same input.
    expect((await compress(SNAPPY, Buffer.from([0x42]))).toString('hex')).toBe(hex(`${XERIAL_HEADER} 00000003 01 00 42`).toString('hex'));
  });

  it('cuts the input into 32 KiB chunks, like snappy-java', async () => {
    const ours = await compress(SNAPPY, pattern(40_000));
    expect(chunkLengths(ours)).toEqual([32_768, 7_232]);
    expect(chunkLengths(ours)).toEqual(chunkLengths(KAFKA_SNAPPY));
    expect(chunkLengths(await compress(SNAPPY, pattern(65_536)))).toEqual([32_768, 32_768]);
  });
});

describe('snappy reading', () => {
  it("reads the xerial stream Kafka's Java client wrote", async () => {
    expect((await decompress(SNAPPY, KAFKA_SNAPPY)).equals(pattern(40_000))).toBe(true);
  });

  it('reads a single raw block, which brokers also accept', async () => {
    expect((await decompress(SNAPPY, RAW_HELLO)).toString()).toBe('hello');
    expect((await decompress(SNAPPY, RAW_ABC_X3)).toString()).toBe('abcabcabc');
  });

  it('reads xerial chunks holding hand-written raw blocks', async () => {
    const stream = Buffer.concat([hex(XERIAL_HEADER), xerialChunk(RAW_HELLO), xerialChunk(RAW_ABC_X3)]);
    expect((await decompress(SNAPPY, stream)).toString()).toBe('helloabcabcabc');
  });

  it('reads concatenated xerial streams, as snappy-java does', async () => {
    const a = await compress(SNAPPY, Buffer.from('first,'));
    const b = await compress(SNAPPY, Buffer.from('second'));
    expect((await decompress(SNAPPY, Buffer.concat([a, b]))).toString()).toBe('first,second');
  });

  it.each([
    ['empty input', Buffer.alloc(0), /preamble/],
    ['a truncated header', hex('82534e4150505900 00000001'), /Truncated xerial snappy header/],
    ['format version 0', hex('82534e4150505900 00000000 00000000'), /Unsupported xerial/],
    ['a newer compatible version', hex('82534e4150505900 00000002 00000002'), /Unsupported xerial/],
    ['a zero chunk length', hex(`${XERIAL_HEADER} 00000000`), /chunk length 0/],
    ['a negative chunk length', hex(`${XERIAL_HEADER} ffffff00 00`), /chunk length -256/],
    ['a chunk longer than the data', hex(`${XERIAL_HEADER} 00000008 051068656c6c6f`), /chunk length 8/],
    ['a truncated chunk length', hex(`${XERIAL_HEADER} 0000`), /Truncated xerial snappy chunk length/],
    ['a block shorter than it declares', hex('0a 08 616263'), /Corrupt snappy block/],
  ])('rejects %s', async (_, input, message) => {
    const error = await decompress(SNAPPY, input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(message);
  });

  it('gives the offset of a corrupt block inside a xerial stream', async () => {
    const stream = Buffer.concat([hex(XERIAL_HEADER), xerialChunk(RAW_HELLO), xerialChunk(hex('0a 08 616263'))]);
    const error = await decompress(SNAPPY, stream).catch((e: unknown) => e);
    expect((error as ProtocolError).offset).toBe(16 + 4 + RAW_HELLO.length + 4);
  });
});

describe('snappy output bound', () => {
  it('allows output up to the limit and not a byte past it', async () => {
    await expect(decompress(SNAPPY, KAFKA_SNAPPY, { maxOutputLength: 40_000 })).resolves.toHaveLength(40_000);
    await expect(decompress(SNAPPY, KAFKA_SNAPPY, { maxOutputLength: 39_999 })).rejects.toBeInstanceOf(DecompressionLimitError);
  });

  it('refuses from the declared lengths alone, before decoding anything', async () => {
    // A raw block declaring 4 GiB - 1 followed by garbage: decoding would fail as corrupt,
    // so a limit error proves the check ran first.
    await expect(decompress(SNAPPY, hex('ffffffff0f 00 00'))).rejects.toBeInstanceOf(DecompressionLimitError);
    // Two chunks that each fit but together do not.
    const chunk = xerialChunk(hex('80808060 00')); // declares 0x60 << 21 = 192 MiB
    await expect(decompress(SNAPPY, Buffer.concat([hex(XERIAL_HEADER), chunk, chunk]))).rejects.toBeInstanceOf(DecompressionLimitError);
  });
});
