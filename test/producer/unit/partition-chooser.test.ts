/** Adaptive partitioning on the send path: queue sizes from the produce set reach the sticky partitioner. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Partitions } from '../../../src/producer/partition-state.js';
import type { TopicState } from '../../../src/producer/metadata.js';
import { PartitionChooser } from '../../../src/producer/partition-chooser.js';
import type { ProducerBatch } from '../../../src/producer/producer-batch.js';

function topicState(partitions: number): TopicState {
  const available = Array.from({ length: partitions }, (_, i) => i);
  return { name: 't', id: '', partitions: available.map(() => ({}) as TopicState['partitions'][number]), available, partitionState: { partitionCount: partitions, availablePartitions: available } };
}

/** Where `n` keyless records of 100 bytes go, each switch after batchSize (100) bytes. */
function spread(chooser: PartitionChooser, topic: TopicState, n: number): number[] {
  const counts = new Array<number>(topic.partitionState.partitionCount).fill(0);
  for (let i = 0; i < n; i++) {
    const p = chooser.choose(topic, { topic: 't', value: 'x' });
    counts[p]!++;
    chooser.appended('t', p, true, 100);
  }
  return counts;
}

function queued(partitions: Partitions, sizes: number[]): void {
  sizes.forEach((size, p) => {
    const q = partitions.get('t', p);
    for (let i = 0; i < size; i++) q.batches.push({} as ProducerBatch);
  });
}

describe('adaptive partitioning', () => {
  it('sends fewer keyless records to a partition whose queue is long', () => {
    const partitions = new Partitions();
    queued(partitions, [20, 0, 0, 0]);
    const counts = spread(new PartitionChooser(100, undefined, partitions), topicState(4), 8_000);
    // Weights are max + 1 - size: 1 for partition 0 against 21 for each other one.
    expect(counts[0]! / 8_000).toBeLessThan(0.05);
    for (const p of [1, 2, 3]) expect(counts[p]! / 8_000).toBeGreaterThan(0.25);
  });

  it('is uniform until every partition has had a batch, and when turned off', () => {
    const partial = new Partitions();
    queued(partial, [20, 0]); // partitions 2 and 3 never had a queue
    for (const chooser of [new PartitionChooser(100, undefined, partial), new PartitionChooser(100, undefined)]) {
      const counts = spread(chooser, topicState(4), 8_000);
      for (const c of counts) expect(c / 8_000).toBeGreaterThan(0.2);
    }
  });
});

describe('string keys', () => {
  // A string key goes where its UTF-8 bytes would: Java hashes bytes, and so must every path here.
  const cases = ['', 'a', 'user-42', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'k'.repeat(300), 'é', 'naïve-key', '日本語', '😀', 'ascii then é'];

  it.each(cases.map((k) => [k.length > 20 ? `${k.slice(0, 8)}… (${k.length})` : JSON.stringify(k), k]))('%s lands where its UTF-8 bytes do', (_, key) => {
    const chooser = new PartitionChooser(100, undefined);
    for (const count of [1, 6, 100, 9_999]) {
      expect(chooser.choose(topicState(count), { topic: 't', key, value: null })).toBe(chooser.choose(topicState(count), { topic: 't', key: Buffer.from(key), value: null }));
    }
  });

  it('agrees with the Buffer for any string, one chooser reused (its scratch grows and is overwritten)', () => {
    const chooser = new PartitionChooser(100, undefined);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 80 })), fc.integer({ min: 1, max: 10_000 }), (key, count) => {
        const topic = topicState(count);
        expect(chooser.choose(topic, { topic: 't', key, value: null })).toBe(chooser.choose(topic, { topic: 't', key: Buffer.from(key), value: null }));
      }),
      { numRuns: 2_000 },
    );
  });
});
