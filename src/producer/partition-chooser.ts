/**
 * Applies the partitioning policy (partitioners/index.ts) on the send path, with per-topic
 * sticky state, and hashes string keys through a scratch buffer so a keyed send does not
 * allocate for its key.
 */
import { InvalidRecordError } from '../errors.js';
import { keyedPartition, partitionFor, StickyPartitioner, type Partitioner, type StickyPartitionInfo } from './partitioners/index.js';
import type { Accumulator } from './accumulator.js';
import type { TopicState } from './metadata.js';
import type { Bytes, ProducerRecord } from './types.js';

function toBuffer(v: Bytes | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  return typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export class PartitionChooser {
  readonly #batchSize: number;
  readonly #partitioner: Partitioner | undefined;
  readonly #sticky = new Map<string, StickyPartitioner>();
  #scratch = Buffer.allocUnsafe(256);
  /** The sticky choice of the last choose(), for appended() to count. */
  #lastSticky: StickyPartitionInfo | null = null;

  constructor(batchSize: number, partitioner: Partitioner | undefined) {
    this.#batchSize = batchSize;
    this.#partitioner = partitioner;
  }

  choose(topic: TopicState, record: ProducerRecord, _accumulator: Accumulator): number {
    this.#lastSticky = null;
    const count = topic.partitions.length;
    const key = record.key;
    if (record.partition === undefined && this.#partitioner === undefined && typeof key === 'string') {
      const length = Buffer.byteLength(key);
      if (length > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#scratch.length * 2));
      this.#scratch.write(key, 0, length, 'utf8');
      return keyedPartition(this.#scratch, count, 0, length);
    }
    if (key == null && record.partition === undefined && this.#partitioner === undefined) {
      // The common keyless case, without building the policy's argument objects.
      const info = this.#stickyFor(topic.name).peek(topic.partitionState);
      this.#lastSticky = info;
      return info.partition;
    }
    if (record.partition !== undefined && record.partition >= count) {
      throw new InvalidRecordError(`partition ${record.partition} does not exist: topic ${topic.name} has partitions 0..${count - 1}`);
    }
    const choice = partitionFor(
      { topic: topic.name, key: toBuffer(key), value: this.#partitioner ? toBuffer(record.value) : null, partition: record.partition },
      topic.partitionState,
      this.#stickyFor(topic.name),
      { partitioner: this.#partitioner },
    );
    this.#lastSticky = choice.sticky;
    return choice.partition;
  }

  /** Counts the bytes the last chosen record added, so the sticky partition moves on in time. */
  appended(topic: string, _partition: number, batchBytes: number, recordBytes: number): void {
    if (!this.#lastSticky) return;
    // Switch only once the batch is full (KIP-794), or past twice batchSize regardless.
    this.#stickyFor(topic).update(this.#lastSticky, recordBytes, batchBytes >= this.#batchSize);
    this.#lastSticky = null;
  }

  #stickyFor(topic: string): StickyPartitioner {
    let s = this.#sticky.get(topic);
    if (!s) this.#sticky.set(topic, (s = new StickyPartitioner({ batchSize: this.#batchSize })));
    return s;
  }
}
