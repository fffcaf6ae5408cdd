import fc from 'fast-check';
import type { RecordBytes, RecordHeadersInput, RecordInput } from '../../../src/protocol/records/record.js';

/** Short strings of any code units, and ASCII up to past 64 characters (the encoder writes short ASCII itself, longer through Buffer). */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 60, maxLength: 70 }),
  fc.string({ unit: 'binary-ascii', maxLength: 70 }),
);

/** Mostly small, sometimes empty, now and then up to ~100 KB (filled cheaply). */
const bytes: fc.Arbitrary<Buffer | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: fc.integer({ min: 8_000, max: 100_000 }).map((n) => Buffer.alloc(n, n & 0xff)) },
);

const field: fc.Arbitrary<RecordBytes | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: bytes },
  { weight: 2, arbitrary: text },
);

const headerValue: fc.Arbitrary<RecordBytes | null> = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 16 }), text);

const headers: fc.Arbitrary<RecordHeadersInput | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.record({ key: text, value: headerValue }), { maxLength: 12 }),
  fc.dictionary(text, headerValue, { maxKeys: 6 }),
);

/**
 * Timestamps near a base (deltas of a few ms either way) or anywhere in ±2^51 ms, so
 * that deltas are negative, beyond 2^31 and beyond 2^52 (the BigInt path) alike.
 */
function timestampNear(base: number): fc.Arbitrary<number | undefined> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -100, max: 10_000 }).map((d) => base + d) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.integer({ min: -(2 ** 51), max: 2 ** 51 }) },
    { weight: 1, arbitrary: fc.constantFrom(base + 2 ** 31, base - 2 ** 31 - 1, base + 2 ** 32) },
  );
}

export const arbRecords: fc.Arbitrary<{ records: RecordInput[]; timestamp: number }> = fc
  .integer({ min: -(2 ** 40), max: 2 ** 45 })
  .chain((base) =>
    fc.record({
      timestamp: fc.constant(base),
      records: fc.array(
        fc.record(
          { key: field, value: field, headers, timestamp: timestampNear(base) },
          { requiredKeys: ['key', 'value'] },
        ),
        { maxLength: 12 },
      ),
    }),
  )
  .map(({ records, timestamp }) => ({
    timestamp,
    // fc.record with optional keys leaves absent keys absent; drop explicit undefineds too.
    records: records.map((r) => {
      const out: RecordInput = { key: r.key, value: r.value };
      if (r.headers !== undefined) out.headers = r.headers;
      if (r.timestamp !== undefined) out.timestamp = r.timestamp;
      return out;
    }),
  }));
