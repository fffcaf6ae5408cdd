/**
 * The produce set: per partition, a queue of batches, the last one open for appends.
 *
 * A partition is *ready* when its first batch is full, has lingered long enough, or a
 * flush or close is waiting, and it is not backing off after a failure. While one of its
 * batches is in a request, a partition is muted: the next batch waits, so a retry can
 * never overtake it and order per partition holds (until idempotence lets the broker
 * enforce order itself, requests in flight to a broker carry different partitions).
 *
 * Drain takes one batch per ready partition of a broker into one request, and counts
 * exactly what each batch adds to the request, so a request never exceeds
 * maxRequestSize (see protocol/produce-size.ts).
 */
import type { ProducerBatch } from './producer-batch.js';

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  readonly batches: ProducerBatch[] = [];
  /** A batch of this partition is in a request. */
  muted = false;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get open(): ProducerBatch | undefined {
    const last = this.batches[this.batches.length - 1];
    return last && !last.closed ? last : undefined;
  }

  /** Bytes queued here, for the adaptive partitioner. */
  get queuedBatches(): number {
    return this.batches.length;
  }
}

export interface Readiness {
  /** The first batch may go now. */
  ready: boolean;
  /** When it will be, if not now (epoch ms); Infinity if only an event can make it so. */
  at: number;
}

export class Accumulator {
  readonly #queues = new Map<string, Map<number, PartitionQueue>>();
  readonly #lingerMs: number;
  /** Number of batches not yet completed. */
  batchCount = 0;

  constructor(lingerMs: number) {
    this.#lingerMs = lingerMs;
  }

  queue(topic: string, partition: number): PartitionQueue {
    let byPartition = this.#queues.get(topic);
    if (!byPartition) this.#queues.set(topic, (byPartition = new Map()));
    let q = byPartition.get(partition);
    if (!q) byPartition.set(partition, (q = new PartitionQueue(topic, partition)));
    return q;
  }

  existing(topic: string, partition: number): PartitionQueue | undefined {
    return this.#queues.get(topic)?.get(partition);
  }

  *all(): Iterable<PartitionQueue> {
    for (const byPartition of this.#queues.values()) yield* byPartition.values();
  }

  add(q: PartitionQueue, batch: ProducerBatch): void {
    // A new batch closes the one before it: that one is full.
    const open = q.open;
    if (open) open.closed = true;
    q.batches.push(batch);
    this.batchCount++;
  }

  /** Puts a batch back at the head of its queue, for a retry that keeps order. */
  requeue(q: PartitionQueue, batch: ProducerBatch): void {
    q.batches.unshift(batch);
  }

  remove(q: PartitionQueue, batch: ProducerBatch): void {
    const i = q.batches.indexOf(batch);
    if (i >= 0) q.batches.splice(i, 1);
    this.batchCount--;
  }

  readiness(q: PartitionQueue, now: number, flushing: boolean): Readiness {
    const first = q.batches[0];
    if (!first || q.muted) return { ready: false, at: Infinity };
    if (first.retryAt > now) return { ready: false, at: first.retryAt };
    if (first.closed || flushing || first.attempts > 0) return { ready: true, at: now };
    const due = first.createdAt + this.#lingerMs;
    return due <= now ? { ready: true, at: now } : { ready: false, at: due };
  }
}
