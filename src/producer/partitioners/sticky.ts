/**
 * The uniform sticky partitioner for records without a key (KIP-794; Java's `BuiltInPartitioner`,
 * the default since Kafka 3.3).
 *
 * Sending each keyless record to a random partition makes many tiny batches. Instead all keyless
 * records of a topic go to one partition until about `batch.size` bytes have gone there, then the
 * partitioner moves on. Counting bytes rather than batches keeps partitions even when records
 * vary in size.
 */
import { ConfigError } from '../../errors.js';

/** What the partitioner needs to know about a topic to pick the next sticky partition. */
export interface TopicPartitionState {
  /** Partitions in the topic, from metadata. */
  readonly partitionCount: number;
  /**
   * Partitions that have a leader (Java's `Cluster#availablePartitionsForTopic`). Only these are
   * picked while there are any. The order is metadata's; it only decides which random draw maps
   * to which partition. A producer that excludes slow brokers
   * (`partitioner.availability.timeout.ms`) leaves their partitions out here.
   */
  readonly availablePartitions: readonly number[];
  /**
   * Adaptive partitioning (`partitioner.adaptive.partitioning.enable`): the number of batches
   * queued per partition, indexed by partition id; missing entries count as empty queues. When
   * given, partitions with longer queues (slower brokers) are picked less often. Java passes
   * these only once every partition of the topic has had a batch; before that, omit them.
   */
  readonly queueSizes?: ArrayLike<number> | undefined;
}

/** The current sticky partition and the bytes appended to it since it was picked. */
export interface StickyPartitionInfo {
  readonly partition: number;
  readonly producedBytes: number;
}

/**
 * A uniformly distributed integer in [0, 2^31), like Java's `toPositive(nextInt())`. Using
 * the same kind of draw as Java means a given draw picks the same partition Java would, which
 * the tests check against Java's own partitioner.
 */
export type RandomInt = () => number;

export const mathRandomInt: RandomInt = () => Math.floor(Math.random() * 0x80000000);

export interface StickyPartitionerOptions {
  /** How many bytes go to a partition before switching: the producer's `batch.size`. */
  readonly batchSize: number;
  /** Injected by tests for reproducible picks. */
  readonly random?: RandomInt | undefined;
}

interface MutableInfo {
  readonly partition: number;
  producedBytes: number;
}

/**
 * Sticky partition state for one topic. The producer uses it in two steps, as Java's
 * RecordAccumulator does:
 *
 *  1. `peek(topic)` says which partition the next keyless record goes to.
 *  2. After appending it there, `update(info, bytes, enableSwitch)` counts the bytes and, once
 *     enough have gone to the partition, lets the next `peek` pick another.
 *
 * The split exists because the append may not happen right after the choice (the producer
 * may wait for buffer memory); `isPartitionChanged(info)` tells whether another send switched
 * partitions in between, in which case the record should be placed again.
 */
export class StickyPartitioner {
  readonly batchSize: number;
  readonly #random: RandomInt;
  #current: MutableInfo | undefined;
  /** Reused cumulative frequency table, so switching partitions does not allocate each time. */
  #cft: Float64Array = new Float64Array(0);

  constructor(options: StickyPartitionerOptions) {
    const { batchSize } = options;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    this.batchSize = batchSize;
    this.#random = options.random ?? mathRandomInt;
  }

  /** The current sticky partition, picking one first if there is none. */
  peek(topic: TopicPartitionState): StickyPartitionInfo {
    if (this.#current === undefined) {
      this.#current = { partition: this.#nextPartition(topic), producedBytes: 0 };
    }
    return this.#current;
  }

  /** Shorthand for `peek(topic).partition`. */
  partition(topic: TopicPartitionState): number {
    return this.peek(topic).partition;
  }

  /** Whether `info` (from `peek`) is no longer the current sticky partition. */
  isPartitionChanged(info: StickyPartitionInfo | null | undefined): boolean {
    return info != null && info !== this.#current;
  }

  /**
   * Records that `appendedBytes` were appended to the partition `info` names.
   *
   * `info` is null for records the sticky partitioner did not place (keyed records, explicit
   * partitions, custom partitioners): those do not count, even when they land on the sticky
   * partition, as in Java. A stale `info` (the partition already switched) is ignored too.
   *
   * `enableSwitch` should be false while the partition's last batch is not full yet: switching
   * then would leave a part-filled batch behind (with a long `linger.ms`, a 12 KB batch followed
   * by a 4 KB one instead of 16 KB ones). The switch is then postponed until the batch fills, but
   * never past twice `batchSize`, so a batch that never fills cannot pin the partition forever.
   *
   * The next partition is picked lazily by the next `peek`, so it sees the metadata and queue
   * sizes of that moment rather than of this append.
   */
  update(info: StickyPartitionInfo | null | undefined, appendedBytes: number, enableSwitch = true): void {
    const current = this.#current;
    if (info == null || info !== current) return;
    current.producedBytes += appendedBytes;
    const produced = current.producedBytes;
    if ((produced >= this.batchSize && enableSwitch) || produced >= this.batchSize * 2) {
      this.#current = undefined;
    }
  }

  #nextPartition(topic: TopicPartitionState): number {
    const draw = this.#random();
    // A float source (Math.random itself) would index past the arrays and yield undefined.
    if (!Number.isInteger(draw) || draw < 0 || draw > 0x7fffffff) {
      throw new RangeError(`the random source must return an integer in [0, 2^31), got ${draw}`);
    }
    const { availablePartitions, queueSizes } = topic;
    const n = availablePartitions.length;
    if (n === 0) {
      // Nothing has a leader: records wait in the chosen partition's queue until one is elected,
      // and any partition is as good as another for that.
      return draw % topic.partitionCount;
    }
    if (queueSizes === undefined) return availablePartitions[draw % n]!;
    return availablePartitions[this.#weightedIndex(availablePartitions, queueSizes, draw)]!;
  }

  /**
   * Index into `available` picked with probability proportional to (max queue + 1 - queue):
   * the emptiest queue gets the most weight and even the fullest keeps a little, so a slow
   * partition still gets some traffic and its queue length stays observed.
   *
   * Built as a cumulative frequency table like Java's, so a draw maps to the same partition as
   * in Java (with equal queues that is `draw % n`, the same as the uniform pick).
   */
  #weightedIndex(available: readonly number[], queueSizes: ArrayLike<number>, draw: number): number {
    const n = available.length;
    if (this.#cft.length < n) this.#cft = new Float64Array(Math.max(n, this.#cft.length * 2));
    const cft = this.#cft;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const size = queueSizes[available[i]!] ?? 0;
      cft[i] = size;
      if (size > max) max = size;
    }
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += max + 1 - cft[i]!;
      cft[i] = total;
    }
    // The first entry strictly greater than the target: entry i covers [cft[i-1], cft[i]).
    const target = draw % total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cft[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
