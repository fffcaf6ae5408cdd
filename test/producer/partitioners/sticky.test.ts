import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  mathRandomInt,
  StickyPartitioner,
  type RandomInt,
  type TopicPartitionState,
} from '../../../src/producer/partitioners/sticky.js';
import { javaVectors } from './java-vectors.js';
import { seededRandom } from './seeded-random.js';

const allOf = (partitionCount: number): TopicPartitionState => ({
  partitionCount,
  availablePartitions: Array.from({ length: partitionCount }, (_, p) => p),
});

/** Draws 0, 1, 2, ...: with uniform picking the partitions then come in order. */
const counting = (): RandomInt => {
  let next = 0;
  return () => next++;
};

/** Appends `count` records of `bytes` each, returning the partition each went to. */
function produce(sticky: StickyPartitioner, topic: TopicPartitionState, count: number, bytes: number): number[] {
  const placed: number[] = [];
  for (let i = 0; i < count; i++) {
    const info = sticky.peek(topic);
    placed.push(info.partition);
    sticky.update(info, bytes);
  }
  return placed;
}

/** How often each partition is switched to over `switches` switches (batchSize 1: one per record). */
function switchCounts(topic: TopicPartitionState, switches: number, seed: number): number[] {
  const sticky = new StickyPartitioner({ batchSize: 1, random: seededRandom(seed) });
  const counts = new Array<number>(topic.partitionCount).fill(0);
  for (const p of produce(sticky, topic, switches, 1)) counts[p]!++;
  return counts;
}

describe("Java's BuiltInPartitioner vectors", () => {
  it('include uniform, adaptive, leaderless and large scenarios', () => {
    expect(javaVectors.sticky.length).toBeGreaterThanOrEqual(10);
    expect(javaVectors.sticky.some((s) => s.queueSizes !== null && s.available.length < s.partitionCount)).toBe(true);
  });

  describe.each(javaVectors.sticky.map((s) => [s.name, s] as const))('%s', (_name, vector) => {
    it('every random draw switches to the partition Java switches to', () => {
      const topic: TopicPartitionState = {
        partitionCount: vector.partitionCount,
        availablePartitions: vector.available,
        queueSizes: vector.queueSizes ?? undefined,
      };
      const picked = vector.draws.map(([draw]) => [draw, new StickyPartitioner({ batchSize: 16384, random: () => draw }).partition(topic)]);
      expect(picked).toEqual(vector.draws);
    });
  });
});

describe('stickiness', () => {
  it('stays on one partition until batchSize bytes went there, then moves', () => {
    const sticky = new StickyPartitioner({ batchSize: 1000, random: counting() });
    const placed = produce(sticky, allOf(4), 40, 100);
    // The record that reaches 1000 bytes still goes to the old partition; the next one moves.
    const runs = Array.from({ length: 4 }, (_, p) => new Array<number>(10).fill(p)).flat();
    expect(placed).toEqual(runs);
  });

  it('switches at exactly batchSize bytes, and after one record bigger than batchSize', () => {
    const exact = new StickyPartitioner({ batchSize: 500, random: counting() });
    expect(produce(exact, allOf(3), 4, 250)).toEqual([0, 0, 1, 1]);
    const huge = new StickyPartitioner({ batchSize: 500, random: counting() });
    expect(produce(huge, allOf(3), 3, 5000)).toEqual([0, 1, 2]);
  });

  it('counts bytes, not records', () => {
    const sticky = new StickyPartitioner({ batchSize: 1000, random: counting() });
    const topic = allOf(5);
    const sizes = [10, 900, 80, 9, 1, 300, 700, 5];
    const placed = sizes.map((bytes) => {
      const info = sticky.peek(topic);
      sticky.update(info, bytes);
      return info.partition;
    });
    // 10+900+80+9+1 = 1000 on partition 0; 300+700 = 1000 on 1; then 2.
    expect(placed).toEqual([0, 0, 0, 0, 0, 1, 1, 2]);
  });

  it('tracks the bytes produced to the current partition', () => {
    const sticky = new StickyPartitioner({ batchSize: 100, random: counting() });
    const info = sticky.peek(allOf(2));
    sticky.update(info, 30);
    sticky.update(info, 12);
    expect(sticky.peek(allOf(2))).toEqual({ partition: 0, producedBytes: 42 });
  });

  it('while switching is disabled (batch not full) it stays, up to twice batchSize', () => {
    const sticky = new StickyPartitioner({ batchSize: 1000, random: counting() });
    const topic = allOf(3);
    const placed: number[] = [];
    for (let i = 0; i < 25; i++) {
      const info = sticky.peek(topic);
      placed.push(info.partition);
      sticky.update(info, 100, false);
    }
    expect(placed).toEqual([...new Array<number>(20).fill(0), ...new Array<number>(5).fill(1)]);
  });

  it('switches as soon as switching is enabled again past batchSize', () => {
    const sticky = new StickyPartitioner({ batchSize: 1000, random: counting() });
    const topic = allOf(3);
    const info = sticky.peek(topic);
    sticky.update(info, 1200, false);
    expect(sticky.isPartitionChanged(info)).toBe(false);
    sticky.update(info, 1, true);
    expect(sticky.isPartitionChanged(info)).toBe(true);
    expect(sticky.partition(topic)).toBe(1);
  });

  it('ignores bytes it did not place (null info) and bytes for a partition it already left', () => {
    const sticky = new StickyPartitioner({ batchSize: 100, random: counting() });
    const topic = allOf(3);
    const first = sticky.peek(topic);
    sticky.update(null, 1000);
    sticky.update(undefined, 1000);
    expect(sticky.peek(topic)).toBe(first);
    expect(sticky.isPartitionChanged(null)).toBe(false);

    sticky.update(first, 100);
    const second = sticky.peek(topic);
    expect(second.partition).toBe(1);
    expect(sticky.isPartitionChanged(first)).toBe(true);
    sticky.update(first, 1000); // a late update for partition 0
    expect(sticky.peek(topic)).toBe(second);
    expect(second.producedBytes).toBe(0);
  });

  it('picks the next partition with the topic state of the next send', () => {
    const sticky = new StickyPartitioner({ batchSize: 10, random: () => 0 });
    sticky.update(sticky.peek(allOf(4)), 10);
    // Partitions 0 and 1 lost their leader between the switch and the next record.
    expect(sticky.partition({ partitionCount: 4, availablePartitions: [2, 3] })).toBe(2);
  });

  it('keeps each topic separate: one partitioner per topic', () => {
    const a = new StickyPartitioner({ batchSize: 10, random: counting() });
    const b = new StickyPartitioner({ batchSize: 10, random: () => 2 });
    produce(a, allOf(3), 3, 10);
    expect(b.partition(allOf(3))).toBe(2);
  });
});

describe('availability', () => {
  const topicArbitrary = fc
    .integer({ min: 1, max: 40 })
    .chain((partitionCount) =>
      fc.record({
        partitionCount: fc.constant(partitionCount),
        availablePartitions: fc.uniqueArray(fc.nat(partitionCount - 1), { minLength: 1, maxLength: partitionCount }),
        queueSizes: fc.option(fc.array(fc.nat(50), { minLength: partitionCount, maxLength: partitionCount }), {
          nil: undefined,
        }),
      }),
    );

  it('never picks a partition without a leader while some have one', () => {
    fc.assert(
      fc.property(topicArbitrary, fc.integer(), (topic, seed) => {
        const sticky = new StickyPartitioner({ batchSize: 1, random: seededRandom(seed) });
        for (const p of produce(sticky, topic, 50, 1)) expect(topic.availablePartitions).toContain(p);
      }),
    );
  });

  it('picks among all partitions when none has a leader', () => {
    const counts = switchCounts({ partitionCount: 5, availablePartitions: [] }, 5000, 7);
    for (const c of counts) expect(c).toBeGreaterThan(800);
    const adaptive = switchCounts({ partitionCount: 5, availablePartitions: [], queueSizes: [9, 0, 0, 0, 0] }, 5000, 7);
    expect(adaptive).toEqual(counts);
  });

  it('ignores the queue sizes of partitions without a leader', () => {
    // Partition 1's huge queue would otherwise raise the max and so every other weight.
    const withLeaderless = switchCounts({ partitionCount: 3, availablePartitions: [0, 2], queueSizes: [0, 1000, 1] }, 40_000, 3);
    const without = switchCounts({ partitionCount: 3, availablePartitions: [0, 2], queueSizes: [0, 0, 1] }, 40_000, 3);
    expect(withLeaderless).toEqual(without);
    expect(withLeaderless[1]).toBe(0);
  });
});

describe('adaptive partitioning (statistical, seeded)', () => {
  /** Asserts each share is within 5 standard deviations of the expected weight share. */
  function expectShares(counts: readonly number[], weights: readonly number[]): void {
    const n = counts.reduce((a, b) => a + b, 0);
    const total = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, i) => {
      const p = w / total;
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(counts[i]! - n * p), `partition ${i}: ${counts[i]} of ${n}, expected ${n * p}`).toBeLessThanOrEqual(
        5 * sigma + 1,
      );
    });
  }

  it('without queue sizes, spreads evenly over the available partitions', () => {
    const counts = switchCounts({ partitionCount: 6, availablePartitions: [0, 2, 3, 5] }, 60_000, 11);
    expectShares(counts, [1, 0, 1, 1, 0, 1]);
  });

  it('picks a heavily queued partition much less often', () => {
    const topic = { partitionCount: 4, availablePartitions: [0, 1, 2, 3], queueSizes: [0, 0, 0, 20] };
    const counts = switchCounts(topic, 64_000, 42);
    // Weights are max + 1 - size: 21, 21, 21, 1.
    expectShares(counts, [21, 21, 21, 1]);
    expect(counts[3]!).toBeLessThan(counts[0]! / 10);
    expect(counts[3]!).toBeGreaterThan(0); // a slow partition still gets some traffic
  });

  it("matches Java's worked example: queues 0 3 1 give weights 4 1 3", () => {
    const counts = switchCounts({ partitionCount: 3, availablePartitions: [0, 1, 2], queueSizes: [0, 3, 1] }, 80_000, 5);
    expectShares(counts, [4, 1, 3]);
  });

  it('treats equal queues as uniform', () => {
    const counts = switchCounts({ partitionCount: 5, availablePartitions: [0, 1, 2, 3, 4], queueSizes: [4, 4, 4, 4, 4] }, 50_000, 9);
    expectShares(counts, [1, 1, 1, 1, 1]);
  });

  it('treats missing queue sizes as empty queues', () => {
    const counts = switchCounts({ partitionCount: 3, availablePartitions: [0, 1, 2], queueSizes: [5] }, 60_000, 13);
    expectShares(counts, [1, 6, 6]);
  });
});

describe('construction and random source', () => {
  it.each([0, -1, 1.5, Number.NaN])('rejects batchSize %s', (batchSize) => {
    expect(() => new StickyPartitioner({ batchSize })).toThrow(ConfigError);
  });

  it('rejects a random source that does not give 31-bit integers', () => {
    for (const bad of [0.5, -1, 2 ** 31, Number.NaN]) {
      expect(() => new StickyPartitioner({ batchSize: 1, random: () => bad }).partition(allOf(3))).toThrow(RangeError);
    }
  });

  it('the default source gives 31-bit integers and spreads', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const draw = mathRandomInt();
      expect(Number.isInteger(draw) && draw >= 0 && draw < 2 ** 31).toBe(true);
      seen.add(draw % 8);
    }
    expect(seen.size).toBe(8);
    const sticky = new StickyPartitioner({ batchSize: 1 });
    expect(new Set(produce(sticky, allOf(4), 400, 1)).size).toBe(4);
  });
});
