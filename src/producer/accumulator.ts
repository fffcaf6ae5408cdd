/**
 * The produce set: per partition, a queue of batches, the last one open for appends.
 *
 * A partition is *ready* when its next unsent batch is full, has lingered long enough, or a
 * flush or close is waiting, and it is not backing off after a failure. Batches leave in
 * queue order and stay in the queue until answered. How many of a partition's batches may
 * be in flight at once is the caller's `perPartition`: one without idempotence (a retry
 * can then never be overtaken, so order holds), up to five with it (the broker's sequence
 * checks keep order). A retry waits until nothing else of its partition is in flight.
 *
 * Drain takes one batch per ready partition of a broker into one request, and counts
 * exactly what each batch adds to the request, so a request never exceeds
 * maxRequestSize (see protocol/produce-size.ts).
 */
import type { ProducerBatch } from './producer-batch.js';

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  /** `topic\0partition`: the partition's key in per-partition maps (sequences, acknowledgements). */
  readonly key: string;
  readonly batches: ProducerBatch[] = [];
  /** Batches of this partition in requests now; they are the first ones in `batches`. */
  inFlight = 0;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
    this.key = `${topic}\0${partition}`;
  }

  get open(): ProducerBatch | undefined {
    const last = this.batches[this.batches.length - 1];
    return last && !last.closed ? last : undefined;
  }

  /** Batches queued here, for adaptive partitioning. */
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

  /** The batch that would go next: the first one neither in flight nor waiting for a later one to tell its fate. */
  nextToSend(q: PartitionQueue): ProducerBatch | undefined {
    for (const b of q.batches) if (!b.inFlight && !b.refused) return b;
    return undefined;
  }

  readiness(q: PartitionQueue, now: number, flushing: boolean, perPartition: number): Readiness {
    if (q.inFlight >= perPartition) return { ready: false, at: Infinity };
    const next = this.nextToSend(q);
    if (!next || (next.attempts > 0 && q.inFlight > 0)) return { ready: false, at: Infinity };
    if (next.retryAt > now) return { ready: false, at: next.retryAt };
    if (next.closed || flushing || next.attempts > 0) return { ready: true, at: now };
    const due = next.createdAt + this.#lingerMs;
    return due <= now ? { ready: true, at: now } : { ready: false, at: due };
  }
}
