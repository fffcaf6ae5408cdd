import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRecordError, KafkaWireError } from '../../../src/errors.js';
import {
  keyedPartition,
  partitionFor,
  StickyPartitioner,
  type Partitioner,
  type PartitionerContext,
  type TopicPartitionState,
} from '../../../src/producer/partitioners/index.js';
import { javaVectors } from './java-vectors.js';

const topic: TopicPartitionState = { partitionCount: 12, availablePartitions: [0, 1, 2, 3, 5, 8, 9, 10, 11] };
const newSticky = (draw = 5): StickyPartitioner => new StickyPartitioner({ batchSize: 100, random: () => draw });
const record = (key: Buffer | null, partition?: number) => ({ topic: 'orders', key, value: Buffer.from('v'), partition });

describe('default policy', () => {
  it('an explicit partition wins over key, sticky and custom partitioner', () => {
    const custom: Partitioner = () => 1;
    const choice = partitionFor(record(Buffer.from('k'), 7), topic, newSticky(), { partitioner: custom });
    expect(choice).toEqual({ partition: 7, sticky: null });
  });

  it('an explicit partition may lack a leader: the user asked for it', () => {
    expect(partitionFor(record(null, 4), topic, newSticky()).partition).toBe(4);
  });

  it('a keyed record hashes over all partitions, as Java does', () => {
    const index = javaVectors.partitionCounts.indexOf(12);
    for (const vector of javaVectors.keys) {
      const choice = partitionFor(record(Buffer.from(vector.hex, 'hex')), topic, newSticky());
      expect(choice).toEqual({ partition: vector.partitions[index], sticky: null });
    }
  });

  it('a keyed record may land on a partition without a leader (keys keep their partition)', () => {
    const unavailable = [4, 6, 7];
    const key = javaVectors.keys.map((k) => Buffer.from(k.hex, 'hex')).find((k) => unavailable.includes(keyedPartition(k, 12)));
    expect(key).toBeDefined();
    expect(unavailable).toContain(partitionFor(record(key!), topic, newSticky()).partition);
  });

  it('an empty key is a key, not a missing one', () => {
    const empty = javaVectors.keys.find((k) => k.hex === '')!;
    const choice = partitionFor(record(Buffer.alloc(0)), topic, newSticky());
    expect(choice).toEqual({ partition: empty.partitions[javaVectors.partitionCounts.indexOf(12)], sticky: null });
  });

  it('a keyless record goes to the sticky partition and carries its info for the update', () => {
    const sticky = newSticky(5); // draw 5 of 9 available partitions: index 5 = partition 8
    const choice = partitionFor(record(null), topic, sticky);
    expect(choice.partition).toBe(8);
    expect(choice.sticky).toBe(sticky.peek(topic));
    sticky.update(choice.sticky, 100);
    expect(sticky.isPartitionChanged(choice.sticky)).toBe(true);
  });

  it('keyed records do not advance the sticky partition', () => {
    const sticky = newSticky();
    const before = sticky.peek(topic);
    for (let i = 0; i < 50; i++) {
      const choice = partitionFor(record(Buffer.from(`key-${i}`)), topic, sticky);
      sticky.update(choice.sticky, 1000);
    }
    expect(sticky.peek(topic)).toBe(before);
  });

  it('ignoreKeys sends keyed records to the sticky partition too', () => {
    const sticky = newSticky();
    const choice = partitionFor(record(Buffer.from('k')), topic, sticky, { ignoreKeys: true });
    expect(choice).toEqual({ partition: 8, sticky: sticky.peek(topic) });
  });

  it.each([-1, 12, 1.5, Number.NaN])('rejects explicit partition %s', (partition) => {
    expect(() => partitionFor(record(null, partition), topic, newSticky())).toThrow(InvalidRecordError);
  });
});

describe('custom partitioner contract', () => {
  it('receives the record and topic, for keyed and keyless records alike', () => {
    const seen: PartitionerContext[] = [];
    const custom: Partitioner = (ctx) => {
      seen.push(ctx);
      return ctx.partitionCount - 1;
    };
    const key = Buffer.from('k');
    expect(partitionFor(record(key), topic, newSticky(), { partitioner: custom })).toEqual({ partition: 11, sticky: null });
    expect(partitionFor(record(null), topic, newSticky(), { partitioner: custom })).toEqual({ partition: 11, sticky: null });
    expect(seen).toEqual([
      { topic: 'orders', key, value: Buffer.from('v'), partitionCount: 12, availablePartitions: topic.availablePartitions },
      { topic: 'orders', key: null, value: Buffer.from('v'), partitionCount: 12, availablePartitions: topic.availablePartitions },
    ]);
  });

  it('does not touch the sticky partitioner', () => {
    const sticky = new StickyPartitioner({
      batchSize: 1,
      random: () => {
        throw new Error('sticky consulted');
      },
    });
    expect(partitionFor(record(null), topic, sticky, { partitioner: () => 3 }).partition).toBe(3);
  });

  it('any in-range result is accepted, leaderless partitions included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.nat(), (partitionCount, pick) => {
        const partition = pick % partitionCount;
        const state = { partitionCount, availablePartitions: [] };
        expect(partitionFor(record(null), state, newSticky(), { partitioner: () => partition }).partition).toBe(partition);
      }),
    );
  });

  it.each([-1, 12, 1000, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('an out-of-contract result %s fails the send', (bad) => {
    const attempt = () => partitionFor(record(Buffer.from('k')), topic, newSticky(), { partitioner: () => bad });
    expect(attempt).toThrow(InvalidRecordError);
    expect(attempt).toThrow(/custom partitioner returned/);
  });

  it('a result that is not a number (from untyped JavaScript) fails the send', () => {
    const untyped = (() => '3') as unknown as Partitioner;
    let caught: unknown;
    try {
      partitionFor(record(null), topic, newSticky(), { partitioner: untyped });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KafkaWireError);
    expect((caught as KafkaWireError).code).toBe('KAFKA_WIRE_INVALID_RECORD');
  });

  it("a partitioner's own error propagates unchanged", () => {
    const boom = new Error('boom');
    expect(() =>
      partitionFor(record(null), topic, newSticky(), {
        partitioner: () => {
          throw boom;
        },
      }),
    ).toThrow(boom);
  });
});
