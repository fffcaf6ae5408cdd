import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Partitions } from '../../../src/producer/partition-state.js';
import { ProducerBatch } from '../../../src/producer/producer-batch.js';

/** The queue operations the producer performs on a partition, in any order. */
type Op = { kind: 'add' } | { kind: 'close' } | { kind: 'remove'; at: number } | { kind: 'split'; at: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'add' }),
  fc.constant<Op>({ kind: 'close' }),
  fc.nat(8).map((at): Op => ({ kind: 'remove', at })),
  fc.nat(8).map((at): Op => ({ kind: 'split', at })),
);

function batch(): ProducerBatch {
  return new ProducerBatch('t', 0, Buffer.alloc(1024), 0, 60_000, false);
}

describe('a partition\'s queue', () => {
  it('keeps `last` as the queue\'s last batch, and `open` as that batch while it takes records, whatever is added, split or removed', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const partitions = new Partitions();
        const state = partitions.get('t', 0);
        for (const o of ops) {
          if (o.kind === 'add') {
            const before = state.open;
            partitions.add(state, batch());
            // Adding closes the batch before: records never go to two open batches.
            if (before) expect(before.closed).toBe(true);
          } else if (o.kind === 'close') {
            if (state.last) state.last.closed = true;
          } else if (state.batches.length > 0) {
            const target = state.batches[o.at % state.batches.length]!;
            if (o.kind === 'remove') {
              partitions.remove(state, target);
            } else {
              // A split puts closed halves where the batch was.
              const halves = [batch(), batch()];
              for (const h of halves) h.closed = true;
              partitions.replace(state, target, halves);
            }
          }
          expect(state.last).toBe(state.batches[state.batches.length - 1]);
          const last = state.batches[state.batches.length - 1];
          expect(state.open).toBe(last && !last.closed ? last : undefined);
          expect(partitions.active.has(state)).toBe(state.batches.length > 0);
        }
      }),
      { seed: 23, numRuns: 500 },
    );
  });
});
