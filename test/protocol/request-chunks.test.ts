import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Metadata, Produce } from '../../src/protocol/apis/index.js';
import { encodeRequest, encodeRequestChunks } from '../../src/protocol/frame.js';
import { BY_REFERENCE_FROM, CHUNK_BUFFER_BYTES, ChunkedWriter, SpareBuffers } from '../../src/protocol/writer.js';

describe('encodeRequestChunks', () => {
  it('writes the bytes encodeRequest writes, referencing record batches of 32 KiB and more instead of copying them', () => {
    const batch = fc.record({
      topic: fc.constantFrom('a', 'topic-b', 'ünï', 'x'.repeat(200)),
      partition: fc.nat(50),
      // Around the threshold, and big enough to need several of the writer's own buffers between them.
      length: fc.oneof(fc.nat(300), fc.integer({ min: 10_000, max: 20_000 }), fc.integer({ min: BY_REFERENCE_FROM - 2, max: BY_REFERENCE_FROM + 2 })),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: Produce.minVersion, max: Produce.maxVersion }),
        fc.option(fc.string({ maxLength: 30 }), { nil: null }),
        fc.array(batch, { maxLength: 60 }),
        fc.boolean(),
        (version, clientId, batches, withSpare) => {
          const topics = new Map<string, Array<{ index: number; records: Buffer }>>();
          const records: Buffer[] = [];
          for (const b of batches) {
            let list = topics.get(b.topic);
            if (!list) topics.set(b.topic, (list = []));
            const bytes = Buffer.alloc(b.length, b.partition + 1);
            records.push(bytes);
            list.push({ index: b.partition, records: bytes });
          }
          const body = {
            transactionalId: null,
            acks: -1 as const,
            timeoutMs: 1000,
            topicData: [...topics].map(([name, partitionData]) => ({ name, topicId: 'Wb2tCz3TRnS0IJ6Ix9JcbQ', partitionData })),
          };
          // Spare buffers hold what an earlier request left in them: only what is written may show.
          const spare = withSpare ? dirtySpares(4) : undefined;
          const { chunks, taken } = encodeRequestChunks(Produce, version, 7, clientId, body, spare);
          // equals(), not toEqual: a deep comparison of megabytes byte by byte takes seconds.
          expect(Buffer.concat(chunks).equals(encodeRequest(Produce, version, 7, clientId, body))).toBe(true);
          if (!spare) expect(taken).toEqual([]);
          for (const b of taken) expect(b.length).toBe(CHUNK_BUFFER_BYTES);
          expect(new Set(taken).size).toBe(taken.length);
          for (const r of records) {
            if (r.length >= BY_REFERENCE_FROM) expect(chunks).toContain(r);
          }
          // Between referenced batches, the writer's own bytes: never an empty chunk.
          for (const c of chunks) expect(c.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is one chunk for a request without big byte fields', () => {
    const body = { topics: [{ name: 'a' }], allowAutoTopicCreation: false };
    const { chunks } = encodeRequestChunks(Metadata, 9, 1, 'c', body);
    expect(chunks).toHaveLength(1);
    expect(Buffer.from(chunks[0]!)).toEqual(encodeRequest(Metadata, 9, 1, 'c', body));
  });
});

/** Spare buffers full of 0xee, as if earlier requests had used them. */
function dirtySpares(n: number): SpareBuffers {
  const spare = new SpareBuffers(n);
  spare.give(Array.from({ length: n }, () => Buffer.alloc(CHUNK_BUFFER_BYTES, 0xee)));
  return spare;
}

describe('ChunkedWriter', () => {
  it('fills spare buffers for the copied bytes of a request past 4 KiB, and leaves small ones to the shared pool', () => {
    const spare = dirtySpares(2);
    const small = new ChunkedWriter(100, spare);
    small.int32(5);
    expect(small.taken()).toEqual([]);
    const w = new ChunkedWriter(3 * CHUNK_BUFFER_BYTES, spare);
    for (let i = 0; i < (3 * CHUNK_BUFFER_BYTES) / 4; i++) w.int32(i);
    // Two were spare, the third made new: all three go back, and the set keeps at most two.
    expect(w.taken()).toHaveLength(3);
    expect(spare.size).toBe(0);
    const bytes = w.finish();
    for (let i = 0; i < (3 * CHUNK_BUFFER_BYTES) / 4; i++) expect(bytes.readInt32BE(i * 4)).toBe(i);
    spare.give(w.taken());
    expect(spare.size).toBe(2);
  });


  it('finish() gives everything written, referenced fields included', () => {
    const big = Buffer.alloc(BY_REFERENCE_FROM, 7);
    const w = new ChunkedWriter(4 + 4 + big.length + 2);
    w.int32(1);
    w.bytes(big);
    w.int16(2);
    expect(w.chunks()).toContain(big);
    const expected = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from([0, 0, 0x80, 0]), big, Buffer.from([0, 2])]);
    expect(w.finish().equals(expected)).toBe(true);
  });
});
