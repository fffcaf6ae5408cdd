/**
 * Everything the producer knows about one partition, on one object (franz-go's `recBuf`,
 * Java's `TxnPartitionEntry` and the accumulator's deque in one): its queue of batches,
 * how many are in flight, its idempotent sequence and what its leader acknowledged, and
 * whether the current transaction has added it.
 *
 * Batches leave in queue order and stay in the queue until answered; the in-flight ones
 * are always the first ones. A partition is *ready* when its next unsent batch is full,
 * has lingered long enough, or a flush is waiting, and it is not backing off. How many of
 * its batches may be in flight at once is the caller's `perPartition`: one without
 * idempotence (a retry can then never be overtaken), up to five with it (the broker's
 * sequence checks keep order). A retry waits until nothing else of the partition is out.
 *
 * `Partitions` is the only map from (topic, partition) to state in the producer, and it
 * keeps the set of partitions that have batches, so the sender never walks the partitions
 * that are idle.
 */
import { objectArray } from './arrays.js';
import { addSequence, type ProducerIdentity, type Stamp } from './idempotence.js';
import type { ProducerBatch } from './producer-batch.js';

/**
 * Brokers forget an idle producer after producer.id.expiration.ms (a day by default);
 * a partition not heard from for this long is treated as not knowing us any more.
 */
const KNOWN_FOR_MS = 60 * 60 * 1000;

/** Where a partition stands in the current transaction (transactions v1 adds partitions explicitly). */
export type TxnMembership = 'none' | 'adding' | 'added';

export class PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly batches: ProducerBatch[] = objectArray();
  /**
   * The last of `batches` (kept by Partitions, which alone changes the queue): open is
   * asked for every record, and with many partitions this object is often out of the CPU
   * caches; one field here saves going through the array object and its elements.
   */
  last: ProducerBatch | undefined;
  /** Batches of this partition in requests now; they are the first ones in `batches`. */
  inFlight = 0;

  /** The id and epoch the partition's sequences belong to, and the next sequence. */
  #sequenceOf: Stamp | undefined;
  #nextSequence = 0;
  /** The producer id the leader last acknowledged a batch of, and when. */
  #acknowledgedId = -1n;
  // Not 0: a time in ms is no small integer, and a field that starts as one changes the
  // object's hidden class at its first answer, deoptimizing what had been compiled for it.
  #acknowledgedAt = -Infinity;

  txn: TxnMembership = 'none';

  /** The earliest time the sender's DueQueue holds this partition for; Infinity when none. */
  dueAt = Infinity;
  /** In the sender's list of partitions to look at on its next run. */
  woken = false;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  /** The batch records are appended to, if it still takes records. */
  get open(): ProducerBatch | undefined {
    const last = this.last;
    return last !== undefined && !last.closed ? last : undefined;
  }

  /** Batches queued here, for adaptive partitioning. */
  get queuedBatches(): number {
    return this.batches.length;
  }

  /** The batch that would go next: the first one neither in flight nor waiting for a later one to tell its fate. */
  nextToSend(): ProducerBatch | undefined {
    for (const b of this.batches) if (!b.inFlight && !b.refused) return b;
    return undefined;
  }

  /**
   * When the next batch may go: `now` (or earlier), a later time, or Infinity when only
   * an event (an answer, a new record) can make it so.
   */
  readyAt(now: number, lingerMs: number, flushing: boolean, perPartition: number): number {
    if (this.inFlight >= perPartition) return Infinity;
    const next = this.nextToSend();
    if (!next || (next.attempts > 0 && this.inFlight > 0)) return Infinity;
    if (next.retryAt > now) return next.retryAt;
    if (next.full || flushing || next.attempts > 0) return now;
    const due = next.createdAt + lingerMs;
    return due <= now ? now : due;
  }

  // ---- idempotence: sequence policy ------------------------------------------------

  /** The leader took (or knew as a duplicate) a batch of `producerId`: it holds state for it. */
  noteAcknowledged(producerId: bigint, now: number): void {
    this.#acknowledgedId = producerId;
    this.#acknowledgedAt = now;
  }

  /**
   * Whether the leader is known to hold state for `producerId`. A leader without it takes
   * a batch with any sequence (that is how a producer whose state expired goes on), so a
   * later batch could be written while an earlier one failed, leaving a hole no answer
   * would reveal. Until then the sender keeps one batch of the partition in flight.
   */
  isKnownTo(producerId: bigint, now: number): boolean {
    return this.#acknowledgedId === producerId && now - this.#acknowledgedAt < KNOWN_FOR_MS;
  }

  /** Whether the partition's sequences belong to the identity's current id and epoch (or it has none yet). */
  sequencesAreCurrent(identity: ProducerIdentity): boolean {
    const s = this.#sequenceOf;
    return s === undefined || (s.producerId === identity.producerId && s.producerEpoch === identity.epoch);
  }

  /**
   * A partition whose batches still carry an older epoch sends no batch under the new
   * one until they are answered: the broker would take the new epoch's sequence 0 and
   * then refuse the old epoch's retries. Nor does it while an earlier batch sits in a
   * request unwritten after losing its stamp: that one comes back to be stamped first
   * (Sender#withdrawStale), or a later batch would take its place in the log.
   */
  maySequence(identity: ProducerIdentity): boolean {
    const next = this.nextToSend();
    if (!next || next.baseSequence >= 0) return true;
    if (this.#unstampedInFlight()) return false;
    if (this.sequencesAreCurrent(identity)) return true;
    return !this.batches.some((b) => b.baseSequence >= 0);
  }

  /**
   * Whether a batch in a request lost its stamp. The in-flight batches lead the queue
   * (refused ones may sit between them): the scan ends at the last of them, not at the end
   * of a queue that can hold thousands of small batches behind a slow leader (a scan of
   * the whole queue on every look made the sender's cost grow with its square).
   */
  #unstampedInFlight(): boolean {
    let left = this.inFlight;
    for (let i = 0; i < this.batches.length && left > 0; i++) {
      const b = this.batches[i]!;
      if (!b.inFlight) continue;
      if (b.baseSequence < 0) return true;
      left--;
    }
    return false;
  }

  /**
   * The base sequence for a batch of `count` records under the identity's current id
   * and epoch, advancing past it. A partition last used under an older epoch starts
   * again at 0 (maySequence made sure none of its old batches is left).
   */
  takeSequence(identity: ProducerIdentity, count: number): number {
    if (!this.sequencesAreCurrent(identity) || this.#sequenceOf === undefined) {
      this.#sequenceOf = { producerId: identity.producerId, producerEpoch: identity.epoch };
      this.#nextSequence = 0;
    }
    const base = this.#nextSequence;
    this.#nextSequence = addSequence(base, count);
    return base;
  }

  /**
   * `batch` will never be sent (it failed before any request carried it): when it holds
   * the last sequences handed out, the next batch gets them instead. Otherwise (a later
   * batch took sequences since) nothing changes, and the gap is found and mended as any
   * other refusal is.
   */
  giveBackSequences(batch: ProducerBatch): void {
    const s = this.#sequenceOf;
    if (s === undefined || batch.baseSequence < 0 || batch.producerId !== s.producerId || batch.producerEpoch !== s.producerEpoch) return;
    if (addSequence(batch.baseSequence, batch.recordCount) === this.#nextSequence) this.#nextSequence = batch.baseSequence;
  }

  /** The partition's unanswered batches are proven not in the log: its sequences start again. */
  forgetSequences(): void {
    this.#sequenceOf = undefined;
    this.#nextSequence = 0;
  }

  /** The first batch whose fate no later answer is waited for. */
  oldestUnresolved(): ProducerBatch | undefined {
    for (const b of this.batches) if (!b.refused) return b;
    return undefined;
  }
}

export class Partitions {
  readonly #byTopic = new Map<string, PartitionState[]>();
  #lastTopic: string | undefined;
  #lastList: PartitionState[] | undefined;
  /** Partitions with at least one batch: all the sender has to look at. */
  readonly active = new Set<PartitionState>();

  get(topic: string, partition: number): PartitionState {
    // Asked for every record, mostly about the topic of the record before (lists are never replaced).
    let list = topic === this.#lastTopic ? this.#lastList : this.#byTopic.get(topic);
    if (!list) this.#byTopic.set(topic, (list = []));
    this.#lastTopic = topic;
    this.#lastList = list;
    return (list[partition] ??= new PartitionState(topic, partition));
  }

  find(topic: string, partition: number): PartitionState | undefined {
    return this.#byTopic.get(topic)?.[partition];
  }

  /** The topic's partitions by id (holes for those never used), or undefined when none was. */
  listOf(topic: string): readonly (PartitionState | undefined)[] | undefined {
    return topic === this.#lastTopic ? this.#lastList : this.#byTopic.get(topic);
  }

  *all(): IterableIterator<PartitionState> {
    for (const list of this.#byTopic.values()) for (const s of list) if (s) yield s;
  }

  /** Queues a new batch; it closes the one before it, which is full. */
  add(state: PartitionState, batch: ProducerBatch): void {
    const open = state.open;
    if (open) open.closed = true;
    state.batches.push(batch);
    state.last = batch;
    this.active.add(state);
  }

  /** Puts `replacements` where `batch` was (a split). */
  replace(state: PartitionState, batch: ProducerBatch, replacements: readonly ProducerBatch[]): void {
    const i = state.batches.indexOf(batch);
    if (i >= 0) state.batches.splice(i, 1, ...replacements);
    state.last = state.batches[state.batches.length - 1];
  }

  remove(state: PartitionState, batch: ProducerBatch): void {
    // Usually the oldest batch: answers come in order. shift() takes it off in constant
    // time (V8 moves the array's start); splice(0, 1) moved every batch behind it.
    if (state.batches[0] === batch) state.batches.shift();
    else {
      const i = state.batches.indexOf(batch);
      if (i >= 0) state.batches.splice(i, 1);
    }
    state.last = state.batches[state.batches.length - 1];
    if (state.batches.length === 0) this.active.delete(state);
  }

  /** Every batch not in a request now, oldest first within each partition. */
  *unsent(): IterableIterator<[PartitionState, ProducerBatch]> {
    for (const state of [...this.active]) for (const b of [...state.batches]) if (!b.inFlight) yield [state, b];
  }
}
