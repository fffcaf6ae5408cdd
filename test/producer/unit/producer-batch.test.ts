/**
 * ProducerBatch keeps each record's timestamp for its RecordMetadata run-length encoded;
 * every record must still learn its own, whatever was aborted or split on the way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProducerBatch } from '../../../src/producer/producer-batch.js';
import type { RecordMetadata } from '../../../src/producer/types.js';

const ANSWER = { baseOffset: 100n, logAppendTimeMs: -1n, logStartOffset: 0n };

/** Appends one record per timestamp; returns the batch and what each record's callback got. */
function batchOf(timestamps: readonly number[]): { batch: ProducerBatch; seen: Array<RecordMetadata | Error | undefined> } {
  const batch = new ProducerBatch('t', 0, Buffer.alloc(1 << 16), 0, 60_000, false);
  const seen: Array<RecordMetadata | Error | undefined> = timestamps.map(() => undefined);
  timestamps.forEach((timestamp, i) => {
    const appended = batch.tryAppend({ key: null, value: Buffer.from(`v${i}`) }, timestamp, (err, metadata) => (seen[i] = err ?? metadata!));
    expect(appended).toBe(true);
  });
  return { batch, seen };
}

const arbTimestamps = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }).map((steps) => {
  // Mostly equal neighbours, as a busy batch has, with jumps and the odd step back.
  let t = 1_700_000_000_000;
  return steps.map((s) => (t += s === 3 ? -5 : s));
});

describe('ProducerBatch record timestamps', () => {
  it('each delivered record gets the timestamp it was appended with, and its offset', () => {
    fc.assert(
      fc.property(arbTimestamps, (timestamps) => {
        const { batch, seen } = batchOf(timestamps);
        batch.finish();
        batch.complete(ANSWER);
        seen.forEach((m, i) => expect(m).toMatchObject({ timestamp: timestamps[i], offset: 100n + BigInt(i) }));
      }),
    );
  });

  it('with records aborted before the batch is finished, the others keep their own timestamps', () => {
    fc.assert(
      fc.property(arbTimestamps, fc.array(fc.nat(), { maxLength: 20 }), (timestamps, picks) => {
        const { batch, seen } = batchOf(timestamps);
        const aborted = new Set(picks.map((p) => p % timestamps.length));
        for (const i of aborted) expect(batch.abort(i)).not.toBe(false);
        batch.finish();
        batch.complete(ANSWER);
        let offset = 100n;
        timestamps.forEach((timestamp, i) => {
          if (aborted.has(i)) return expect(seen[i]).toBeUndefined();
          expect(seen[i]).toMatchObject({ timestamp, offset: offset++ });
        });
      }),
    );
  });

  it('the halves of a split batch give each record its timestamp', () => {
    fc.assert(
      fc.property(arbTimestamps.filter((t) => t.length >= 2), (timestamps) => {
        const { batch, seen } = batchOf(timestamps);
        batch.finish();
        const halves = batch.split(0);
        let base = 0n;
        for (const half of halves) {
          half.finish();
          half.complete({ ...ANSWER, baseOffset: base });
          base += BigInt(half.recordCount);
        }
        seen.forEach((m, i) => expect(m).toMatchObject({ timestamp: timestamps[i], offset: BigInt(i) }));
      }),
    );
  });

  it('LogAppendTime: every record gets the broker\'s time instead', () => {
    const { batch, seen } = batchOf([5, 5, 9]);
    batch.finish();
    batch.complete({ ...ANSWER, logAppendTimeMs: 42n });
    expect(seen.map((m) => (m as RecordMetadata).timestamp)).toEqual([42, 42, 42]);
  });
});
