import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProducerIdentity } from '../../../src/producer/idempotence.js';
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

  it('maySequence, which reads only as far as the last batch in flight, says what a scan of the whole queue says', () => {
    const identity = { producerId: 1n, epoch: 0 } as ProducerIdentity;
    // A batch as the sender leaves it: in a request or not, refused or not, stamped or not.
    const shape = fc.record({ inFlight: fc.boolean(), refused: fc.boolean(), stamped: fc.boolean() });
    fc.assert(
      fc.property(fc.array(shape, { maxLength: 12 }), fc.boolean(), (shapes, epochBumped) => {
        const partitions = new Partitions();
        const state = partitions.get('t', 0);
        if (epochBumped) state.takeSequence({ producerId: 1n, epoch: -1 } as ProducerIdentity, 1);
        for (const s of shapes) {
          const b = batch();
          b.closed = true;
          b.inFlight = s.inFlight;
          b.refused = s.refused;
          b.baseSequence = s.stamped ? 0 : -1;
          partitions.add(state, b);
        }
        state.inFlight = shapes.filter((s) => s.inFlight).length;
        // The definition: the next batch to send may take a sequence unless it is stamped already
        // (then yes), a batch in flight lost its stamp, or old-epoch batches remain.
        const next = state.nextToSend();
        const expected =
          !next || next.baseSequence >= 0
            ? true
            : state.batches.some((b) => b.inFlight && b.baseSequence < 0)
              ? false
              : state.sequencesAreCurrent(identity) || !state.batches.some((b) => b.baseSequence >= 0);
        expect(state.maySequence(identity)).toBe(expected);
      }),
      { seed: 29, numRuns: 2000 },
    );
  });
});
