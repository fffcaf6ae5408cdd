/**
 * Applies the partitioning policy (partitioners/index.ts) on the send path, with per-topic
 * sticky state, and hashes string keys through a scratch buffer so a keyed send does not
 * allocate for its key. With adaptive partitioning the sticky partitioner sees how many
 * batches each partition has queued, read only when it moves on to a new partition.
 */
import { InvalidRecordError } from '../errors.js';
import {
  keyedPartition,
  partitionFor,
  StickyPartitioner,
  type Partitioner,
  type StickyPartitionInfo,
  type TopicPartitionState,
} from './partitioners/index.js';
import type { Partitions } from './partition-state.js';
import type { TopicState } from './metadata.js';
import type { Bytes, ProducerRecord } from './types.js';

function toBuffer(v: Bytes | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  return typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * A topic's partition state with the batches queued per partition read when the sticky
 * partitioner moves on (every batchSize bytes: every 16 records of 1 KiB). A class, not an
 * object literal with a getter: reading the literal's accessor took a generic LoadIC each
 * time.
 */
class LoadAwareView implements TopicPartitionState {
  readonly partitionCount: number;
  readonly availablePartitions: readonly number[];
  readonly #partitions: Partitions;
  readonly #topic: string;
  /** Filled anew at each read, which the partitioner uses at once: one array per topic, not one per switch. */
  readonly #sizes: Int32Array;

  constructor(base: TopicPartitionState, partitions: Partitions, topic: string) {
    this.partitionCount = base.partitionCount;
    this.availablePartitions = base.availablePartitions;
    this.#partitions = partitions;
    this.#topic = topic;
    this.#sizes = new Int32Array(base.partitionCount);
  }

  /** Batches queued per partition; as in Java, only once every partition has had one. */
  get queueSizes(): Int32Array | undefined {
    const count = this.partitionCount;
    const list = this.#partitions.listOf(this.#topic);
    if (list === undefined || list.length < count) return undefined;
    const sizes = this.#sizes;
    for (let p = 0; p < count; p++) {
      const q = list[p];
      if (q === undefined) return undefined;
      sizes[p] = q.queuedBatches;
    }
    return sizes;
  }
}

/** String keys up to this many characters take the by-hand copy (the scratch buffer starts bigger). */
const SHORT_KEY = 64;

export class PartitionChooser {
  readonly #batchSize: number;
  readonly #partitioner: Partitioner | undefined;
  /** Set for adaptive partitioning: where the queue sizes come from. */
  readonly #partitions: Partitions | undefined;
  readonly #sticky = new Map<string, StickyPartitioner>();
  /** Per topic, its metadata's partition state with queue sizes read on demand. */
  readonly #loadAware = new Map<string, { base: TopicPartitionState; view: TopicPartitionState }>();
  #lastLoadAware: { base: TopicPartitionState; view: TopicPartitionState } | undefined;
  #lastStickyTopic: string | undefined;
  #lastStickyState: StickyPartitioner | undefined;
  #scratch = Buffer.allocUnsafe(256);
  /**
   * The sticky choice of the last keyless choose(), for appended() to count while
   * #lastWasSticky says the last choice was one. Written only when the sticky partition
   * changed: storing an object into a long-lived one on every record cost a write barrier's
   * slow path each time (~1% of the main thread), where a boolean costs none.
   */
  #lastSticky: StickyPartitionInfo | null = null;
  #lastWasSticky = false;

  constructor(batchSize: number, partitioner: Partitioner | undefined, adaptiveFrom?: Partitions) {
    this.#batchSize = batchSize;
    this.#partitioner = partitioner;
    this.#partitions = adaptiveFrom;
  }

  choose(topic: TopicState, record: ProducerRecord): number {
    this.#lastWasSticky = false;
    const count = topic.partitions.length;
    const key = record.key;
    if (record.partition === undefined && this.#partitioner === undefined && key != null) {
      // The common keyed cases, without building the policy's argument objects.
      if (typeof key !== 'string') return keyedPartition(key, count);
      const length = this.#encode(key); // first: it may replace the scratch buffer
      return keyedPartition(this.#scratch, count, 0, length);
    }
    if (key == null && record.partition === undefined && this.#partitioner === undefined) {
      // The common keyless case, without building the policy's argument objects.
      const info = this.#stickyFor(topic.name).peek(this.#stateOf(topic));
      this.#noteSticky(info);
      return info.partition;
    }
    if (record.partition !== undefined && record.partition >= count) {
      throw new InvalidRecordError(`partition ${record.partition} does not exist: topic ${topic.name} has partitions 0..${count - 1}`);
    }
    const choice = partitionFor(
      { topic: topic.name, key: toBuffer(key), value: this.#partitioner ? toBuffer(record.value) : null, partition: record.partition },
      this.#stateOf(topic),
      this.#stickyFor(topic.name),
      { partitioner: this.#partitioner },
    );
    if (choice.sticky) this.#noteSticky(choice.sticky);
    return choice.partition;
  }

  #noteSticky(info: StickyPartitionInfo): void {
    if (this.#lastSticky !== info) this.#lastSticky = info;
    this.#lastWasSticky = true;
  }

  /**
   * Puts a string key's UTF-8 bytes in the scratch buffer and returns their length. Short
   * ASCII keys (ids, names: most string keys) are copied by hand: two calls into C++
   * (byteLength, write) cost more than the hash.
   */
  #encode(key: string): number {
    const length = key.length;
    if (length <= SHORT_KEY) {
      const scratch = this.#scratch;
      let seen = 0;
      for (let i = 0; i < length; i++) {
        const c = key.charCodeAt(i);
        seen |= c;
        scratch[i] = c;
      }
      if (seen < 0x80) return length;
    }
    const bytes = Buffer.byteLength(key);
    if (bytes > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(Math.max(bytes, this.#scratch.length * 2));
    this.#scratch.write(key, 0, bytes, 'utf8');
    return bytes;
  }

  /**
   * Counts the bytes the last chosen record added, so the sticky partition moves on in time.
   * `batchDone`: the batch it went into takes no more (closed full) or reached batchSize.
   */
  appended(topic: string, _partition: number, batchDone: boolean, recordBytes: number): void {
    if (!this.#lastWasSticky) return;
    // Switch only once the batch is done (KIP-794), or past twice batchSize regardless.
    // Java waits for a batch of at least batchSize bytes; one closed full holds a little
    // less (its header and the room no record fitted), so waiting for that left a batch
    // of a record or two behind at every switch, lingering for lingerMs.
    this.#stickyFor(topic).update(this.#lastSticky, recordBytes, batchDone);
    this.#lastWasSticky = false;
  }

  /** The topic's partition state as the sticky partitioner should see it. */
  #stateOf(topic: TopicState): TopicPartitionState {
    const partitions = this.#partitions;
    if (!partitions) return topic.partitionState;
    const base = topic.partitionState;
    if (this.#lastLoadAware?.base === base) return this.#lastLoadAware.view;
    let entry = this.#loadAware.get(topic.name);
    if (entry?.base !== base) {
      const name = topic.name;
      const view = new LoadAwareView(base, partitions, name);
      this.#loadAware.set(name, (entry = { base, view }));
    }
    this.#lastLoadAware = entry;
    return entry.view;
  }

  #stickyFor(topic: string): StickyPartitioner {
    // Asked twice for every keyless record, mostly about the topic of the record before.
    if (topic === this.#lastStickyTopic) return this.#lastStickyState!;
    let s = this.#sticky.get(topic);
    if (!s) this.#sticky.set(topic, (s = new StickyPartitioner({ batchSize: this.#batchSize })));
    this.#lastStickyTopic = topic;
    this.#lastStickyState = s;
    return s;
  }
}
