/**
 * Which partition a record goes to: the producer's default policy (Java's `KafkaProducer#partition`
 * with the built-in partitioner) and the contract for custom partitioners.
 */
import { InvalidRecordError } from '../../errors.js';
import { keyedPartition } from './murmur2.js';
import type { StickyPartitioner, StickyPartitionInfo, TopicPartitionState } from './sticky.js';

export { keyedPartition, murmur2, toPositive } from './murmur2.js';
export {
  mathRandomInt,
  StickyPartitioner,
  type RandomInt,
  type StickyPartitionerOptions,
  type StickyPartitionInfo,
  type TopicPartitionState,
} from './sticky.js';

/** What a custom partitioner is told about a record and its topic. */
export interface PartitionerContext {
  readonly topic: string;
  /** The serialized key; null when the record has none (an empty key is not null). */
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Partitions in the topic, from metadata. */
  readonly partitionCount: number;
  /** Partitions that currently have a leader. */
  readonly availablePartitions: readonly number[];
}

/**
 * A custom partitioner (Java's `partitioner.class`). It is called for every record that has no
 * explicit partition, keyed or not, on the send path: keep it synchronous and cheap.
 *
 * It must return an integer in `0 .. partitionCount - 1`. The producer checks, and fails the send
 * with an `InvalidRecordError` otherwise. To leave a keyed record where the default would put it
 * (Java's murmur2 of the key), return `keyedPartition(ctx.key, ctx.partitionCount)`. It may return a partition without a leader; records
 * then wait for one to be elected, up to the delivery timeout.
 */
export type Partitioner = (ctx: PartitionerContext) => number;

/** The parts of a record that decide its partition. */
export interface PartitionedRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** An explicit partition, which overrides every partitioner. */
  readonly partition?: number | undefined;
}

export interface PartitionPolicy {
  /** Replaces the built-in keyed and sticky partitioning. */
  readonly partitioner?: Partitioner | undefined;
  /** Java's `partitioner.ignore.keys`: keyed records are spread by the sticky partitioner too. */
  readonly ignoreKeys?: boolean | undefined;
}

export interface PartitionChoice {
  readonly partition: number;
  /**
   * Set when the sticky partitioner chose the partition. The producer passes it to
   * `StickyPartitioner#update` after the append, so that only sticky-placed bytes count
   * towards the switch.
   */
  readonly sticky: StickyPartitionInfo | null;
}

/**
 * The partition for a record: an explicit partition wins; then a custom partitioner if there
 * is one; then a key hashes with murmur2 over all partitions (like Java, so keys map to the
 * same partitions as with Java producers); a record without a key goes to the topic's sticky
 * partition.
 *
 * An explicit partition past `partitionCount` is rejected here; a producer that wants Java's
 * behaviour (wait for metadata to show more partitions) checks that before calling.
 */
export function partitionFor(
  record: PartitionedRecord,
  topic: TopicPartitionState,
  sticky: StickyPartitioner,
  policy: PartitionPolicy = {},
): PartitionChoice {
  const { partitionCount } = topic;
  if (record.partition !== undefined) {
    checkPartition(record.partition, partitionCount, record.topic, 'the record gives');
    return { partition: record.partition, sticky: null };
  }
  if (policy.partitioner !== undefined) {
    const partition = policy.partitioner({
      topic: record.topic,
      key: record.key,
      value: record.value,
      partitionCount,
      availablePartitions: topic.availablePartitions,
    });
    checkPartition(partition, partitionCount, record.topic, 'the custom partitioner returned');
    return { partition, sticky: null };
  }
  if (record.key !== null && policy.ignoreKeys !== true) {
    return { partition: keyedPartition(record.key, partitionCount), sticky: null };
  }
  const info = sticky.peek(topic);
  return { partition: info.partition, sticky: info };
}

function checkPartition(partition: unknown, partitionCount: number, topic: string, source: string): void {
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
    throw new InvalidRecordError(
      `invalid partition: ${source} ${String(partition)} for topic ${topic}, which has partitions 0..${partitionCount - 1}`,
    );
  }
}
