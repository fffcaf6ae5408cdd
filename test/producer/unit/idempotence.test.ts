/** Sequence bookkeeping of the idempotent producer (identity and per-partition state), without a broker. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProducerIdentity, addSequence, sameStamp } from '../../../src/producer/idempotence.js';
import { PartitionState } from '../../../src/producer/partition-state.js';

const MAX = 0x7fffffff;

function identity(producerId = 7n, epoch = 0): ProducerIdentity {
  const id = new ProducerIdentity();
  id.setIdentity(producerId, epoch);
  return id;
}

const partition = (name: string): PartitionState => new PartitionState(name, 0);

/** What the sequencer does when a partition's unanswered batches are proven not written. */
function restart(id: ProducerIdentity, p: PartitionState, stamp: { producerId: bigint; producerEpoch: number }): void {
  p.forgetSequences();
  id.moveOnFrom(stamp);
}

describe('sequences', () => {
  it('wrap after int32 max to 0, as Kafka does', () => {
    expect(addSequence(0, 5)).toBe(5);
    expect(addSequence(MAX - 5, 5)).toBe(MAX);
    expect(addSequence(MAX - 4, 5)).toBe(0);
    expect(addSequence(MAX, 1)).toBe(0);
    expect(addSequence(MAX, 3)).toBe(2);
  });

  it('addSequence is addition modulo 2^31', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 1, max: 100_000 }), (base, count) => {
        expect(addSequence(base, count)).toBe(Number((BigInt(base) + BigInt(count)) % 2n ** 31n));
      }),
    );
  });

  it('run per partition, each from 0', () => {
    const id = identity();
    const [p0, p1] = [partition('t0'), partition('t1')];
    expect(p0.takeSequence(id, 3)).toBe(0);
    expect(p0.takeSequence(id, 2)).toBe(3);
    expect(p1.takeSequence(id, 4)).toBe(0);
    expect(p0.takeSequence(id, 1)).toBe(5);
  });
});

describe("restarting a partition's sequences", () => {
  it('moves the epoch on when the partition used the current one, and only that partition starts again at 0', () => {
    const id = identity(7n, 3);
    const [a, b] = [partition('a'), partition('b')];
    a.takeSequence(id, 10);
    b.takeSequence(id, 10);
    restart(id, a, { producerId: 7n, producerEpoch: 3 });
    expect(id.epoch).toBe(4);
    expect(a.sequencesAreCurrent(id)).toBe(true);
    // b still has batches under epoch 3: it is not current, and the sender holds its new batches back.
    expect(b.sequencesAreCurrent(id)).toBe(false);
    expect(a.takeSequence(id, 1)).toBe(0);
    // Once b's old batches are answered, its next batch starts the new epoch at 0.
    expect(b.takeSequence(id, 1)).toBe(0);
    expect(b.sequencesAreCurrent(id)).toBe(true);
  });

  it('does not move the epoch again for a partition still under an older one: it has never used the current epoch', () => {
    const id = identity(7n, 3);
    const [a, b] = [partition('a'), partition('b')];
    a.takeSequence(id, 10);
    b.takeSequence(id, 10);
    restart(id, a, { producerId: 7n, producerEpoch: 3 });
    restart(id, b, { producerId: 7n, producerEpoch: 3 });
    expect(id.epoch).toBe(4);
    expect(b.takeSequence(id, 1)).toBe(0);
  });

  it('needs a new producer id once the epoch is exhausted', () => {
    const id = identity(7n, 0x7fff);
    const a = partition('a');
    a.takeSequence(id, 1);
    restart(id, a, { producerId: 7n, producerEpoch: 0x7fff });
    expect(id.ready).toBe(false);
    expect(id.producerId).toBe(-1n);
    id.setIdentity(8n, 0);
    expect(a.sequencesAreCurrent(id)).toBe(true);
    expect(a.takeSequence(id, 1)).toBe(0);
  });

  it('a new identity from the coordinator applies lazily, partition by partition', () => {
    const id = identity(7n, 1);
    const a = partition('a');
    a.takeSequence(id, 5);
    id.setIdentity(7n, 2);
    expect(a.sequencesAreCurrent(id)).toBe(false);
    expect(a.takeSequence(id, 5)).toBe(0);
  });

  it('stamps compare id and epoch', () => {
    expect(sameStamp({ producerId: 1n, producerEpoch: 2 }, { producerId: 1n, producerEpoch: 2 })).toBe(true);
    expect(sameStamp({ producerId: 1n, producerEpoch: 2 }, { producerId: 1n, producerEpoch: 3 })).toBe(false);
    expect(sameStamp({ producerId: 1n, producerEpoch: 2 }, { producerId: 2n, producerEpoch: 2 })).toBe(false);
  });
});

describe("whether a partition's leader holds our producer state", () => {
  it('is known once it acknowledged a batch of the current producer id, for an hour', () => {
    const [a, b] = [partition('a'), partition('b')];
    expect(a.isKnownTo(7n, 1_000)).toBe(false);
    a.noteAcknowledged(7n, 1_000);
    expect(a.isKnownTo(7n, 1_000)).toBe(true);
    expect(b.isKnownTo(7n, 1_000)).toBe(false);
    expect(a.isKnownTo(7n, 1_000 + 3_600_000)).toBe(false);
  });

  it('survives an epoch bump (a leader that knows us requires sequence 0 of a new epoch) but not a new producer id', () => {
    const id = identity(7n, 0);
    const a = partition('a');
    a.noteAcknowledged(7n, 0);
    a.takeSequence(id, 1);
    restart(id, a, { producerId: 7n, producerEpoch: 0 });
    expect(a.isKnownTo(id.producerId, 1)).toBe(true);
    id.setIdentity(8n, 0);
    expect(a.isKnownTo(id.producerId, 1)).toBe(false);
  });
});
