/**
 * Untrusted bytes: whatever a broker (or a corrupted network buffer) hands the decoder,
 * it answers with batches, a truncation flag, or a ProtocolError, and nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { CODEC_ID } from '../../../src/protocol/compression/codecs.js';
import { encodeRecordBatch } from '../../../src/protocol/records/builder.js';
import { compressBatch } from '../../../src/protocol/records/compress-batch.js';
import {
  decodeRecordBatches,
  decodeRecordBatchesSync,
  type DecodedRecordBatches,
  type DecodeOptions,
} from '../../../src/protocol/records/decode.js';
import { compressGzip, decompressGzip, withAttributeBits, withBaseOffset } from './helpers.js';

const options: DecodeOptions = { decompress: decompressGzip };

async function decodeOrProtocolError(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedRecordBatches | ProtocolError> {
  try {
    return await decodeRecordBatches(bytes, opts);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

function decodeSyncOrProtocolError(bytes: Uint8Array, verifyCrc: boolean): DecodedRecordBatches | ProtocolError {
  try {
    return decodeRecordBatchesSync(bytes, { verifyCrc });
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

async function fetchLikeBuffer(): Promise<{ bytes: Buffer; boundaries: number[]; plainOnly: Buffer; plainBoundaries: number[] }> {
  const plain = [
    encodeRecordBatch(
      [
        { key: 'k1', value: 'v1', timestamp: 10, headers: { a: 'b', n: null } },
        { key: null, value: Buffer.alloc(300, 7), timestamp: 2 ** 40 },
      ],
      { producerId: 1, producerEpoch: 0, baseSequence: 0 },
    ),
    withAttributeBits(encodeRecordBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 9]), timestamp: 11 }]), 0x30),
    encodeRecordBatch([{ key: 'x', value: null, timestamp: -5 }], { producerId: 1, producerEpoch: 0, baseSequence: 2 }),
  ];
  const compressed = await compressBatch(
    encodeRecordBatch(Array.from({ length: 20 }, (_, i) => ({ key: `key${i}`, value: 'value value value', timestamp: 1000 + i }))),
    CODEC_ID.gzip,
    compressGzip,
  );
  const ends = (batches: Buffer[]): number[] => batches.map((_, i) => batches.slice(0, i + 1).reduce((n, b) => n + b.length, 0));
  const all = [...plain, compressed].map((b, i) => withBaseOffset(b, BigInt(i * 100)));
  const plainWithOffsets = plain.map((b, i) => withBaseOffset(b, BigInt(i * 100)));
  return { bytes: Buffer.concat(all), boundaries: ends(all), plainOnly: Buffer.concat(plainWithOffsets), plainBoundaries: ends(plainWithOffsets) };
}

describe('decoding untrusted bytes', () => {
  it('turns random bytes into a ProtocolError or a (possibly truncated) result', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), async (bytes, verifyCrc) => {
        await decodeOrProtocolError(bytes, { ...options, verifyCrc });
        decodeSyncOrProtocolError(bytes, true);
      }),
      { numRuns: 2000 },
    );
  });

  it('turns random bytes behind a plausible batch header into a ProtocolError or a result', async () => {
    // Random bytes rarely get past the framing; these start with a v2 header of the right length.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 49, maxLength: 600 }), fc.integer({ min: 0, max: 0x7f }), async (rest, attributes) => {
        const bytes = Buffer.concat([Buffer.alloc(12), Buffer.from(rest)]);
        bytes.writeInt32BE(rest.length, 8);
        bytes[16] = 2;
        bytes.writeInt16BE(attributes, 21);
        await decodeOrProtocolError(bytes, { ...options, verifyCrc: false });
      }),
      { numRuns: 3000 },
    );
  });

  it('turns corrupted valid batches into a ProtocolError or a result', async () => {
    const { bytes } = await fetchLikeBuffer();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat({ max: bytes.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
        async (changes) => {
          const corrupt = Buffer.from(bytes);
          for (const { at, value } of changes) corrupt[at] = value;
          await decodeOrProtocolError(corrupt, { ...options, verifyCrc: false });
          await decodeOrProtocolError(corrupt, options);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes every truncation of several batches to the whole batches before the cut', async () => {
    const { bytes, boundaries } = await fetchLikeBuffer();
    const whole = await decodeRecordBatches(bytes, options);
    expect(whole.batches).toHaveLength(4);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const complete = boundaries.filter((end) => end <= cut).length;
      const result = await decodeRecordBatches(bytes.subarray(0, cut), options);
      expect(result.truncated).toBe(cut !== (boundaries[complete - 1] ?? 0));
      expect(result.batches).toEqual(whole.batches.slice(0, complete));
    }
  });

  it('does the same synchronously for uncompressed batches', async () => {
    const { plainOnly, plainBoundaries } = await fetchLikeBuffer();
    const whole = decodeRecordBatchesSync(plainOnly);
    for (let cut = 0; cut <= plainOnly.length; cut++) {
      const complete = plainBoundaries.filter((end) => end <= cut).length;
      const result = decodeRecordBatchesSync(plainOnly.subarray(0, cut));
      expect(result.truncated).toBe(cut !== (plainBoundaries[complete - 1] ?? 0));
      expect(result.batches).toEqual(whole.batches.slice(0, complete));
    }
  });
});
