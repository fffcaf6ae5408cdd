import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Produce } from '../../src/protocol/apis/index.js';
import { encodeRequest } from '../../src/protocol/frame.js';
import { ProduceRequestSize } from '../../src/protocol/produce-size.js';

describe('ProduceRequestSize', () => {
  it('predicts exactly the bytes encodeRequest writes, for every version, batch by batch', () => {
    const batch = fc.record({ topic: fc.constantFrom('a', 'topic-b', 'ünï', 'x'.repeat(200)), partition: fc.nat(50), length: fc.nat(300) });
    fc.assert(
      fc.property(
        fc.integer({ min: Produce.minVersion, max: Produce.maxVersion }),
        fc.option(fc.string({ maxLength: 30 }), { nil: null }),
        fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: null }),
        fc.array(batch, { maxLength: 150 }),
        (version, clientId, transactionalId, batches) => {
          const size = new ProduceRequestSize(version, clientId, transactionalId);
          const topics = new Map<string, Array<{ index: number; records: Buffer }>>();
          for (const b of batches) {
            const grow = size.growth(b.topic, b.length);
            const before = size.bytes;
            size.add(b.topic, b.length);
            expect(size.bytes).toBe(before + grow);
            let list = topics.get(b.topic);
            if (!list) topics.set(b.topic, (list = []));
            list.push({ index: b.partition, records: Buffer.alloc(b.length) });
          }
          const frame = encodeRequest(Produce, version, 1, clientId, {
            transactionalId,
            acks: -1,
            timeoutMs: 1000,
            topicData: [...topics].map(([name, partitionData]) => ({ name, topicId: 'Wb2tCz3TRnS0IJ6Ix9JcbQ', partitionData })),
          });
          expect(size.bytes).toBe(frame.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
