/**
 * The one way a record ends. Delivered, refused by the broker, expired, aborted by its
 * signal, dropped to make room, failed at close, fenced: every end goes through here,
 * which runs the record's callback exactly once, counts it, gives its memory back, tells
 * the transaction, and wakes flush() when nothing is left.
 *
 * A record is in one of two places until it ends: a waiting send (not yet in a batch:
 * waiting for its topic's metadata or for memory) or a batch.
 */
import { debuglog } from 'node:util';
import type { BufferPool } from './buffer-pool.js';
import type { Partitions, PartitionState } from './partition-state.js';
import type { CallbackFailure, ProducerBatch } from './producer-batch.js';
import type { BatchAnswer, DeliveryCallback, ProducerCounters } from './types.js';

const debug = debuglog('kafka-wire');

/** Why a record ended without being delivered: counted apart, and only `failed` spoils a transaction. */
export type FailureKind = 'failed' | 'aborted' | 'dropped';

/** A record not (yet) in a batch. */
export interface PendingRecord {
  readonly callback: DeliveryCallback | undefined;
  /** Set once it ended (or went into a batch): later events about it are ignored. */
  settled: boolean;
}

export interface CompletionHooks {
  /** A record failed for good (kind `failed`), in `batch` if it had reached one. */
  onFailure?(err: Error, batch: ProducerBatch | undefined): void;
}

export class Completion {
  readonly counters: ProducerCounters = {
    recordsSent: 0,
    recordsFailed: 0,
    recordsAborted: 0,
    recordsDropped: 0,
    bytesSent: 0,
    requestsSent: 0,
    retries: 0,
    requestsInFlight: 0,
  };
  readonly #pool: BufferPool;
  readonly #partitions: Partitions;
  hooks: CompletionHooks = {};
  /** Records accepted and not yet ended. */
  #unfinished = 0;
  #idleWaiters: Array<() => void> = [];

  /** Raises what a delivery callback threw, outside the producer's bookkeeping (the producer: on the next turn of its clock). */
  readonly #raise: (error: unknown) => void;

  constructor(pool: BufferPool, partitions: Partitions, raise: (error: unknown) => void) {
    this.#pool = pool;
    this.#partitions = partitions;
    this.#raise = raise;
  }

  get unfinished(): number {
    return this.#unfinished;
  }

  /** A record was accepted by send(); it ends through one of the methods below. */
  accepted(): void {
    this.#unfinished++;
  }

  /** Resolves as soon as every accepted record has ended. */
  whenIdle(): Promise<void> {
    if (this.#unfinished === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  delivered(state: PartitionState, batch: ProducerBatch, answer: BatchAnswer): void {
    if (batch.done) return;
    const n = batch.liveCount;
    this.#partitions.remove(state, batch);
    this.counters.recordsSent += n;
    const thrown = batch.complete(answer);
    this.#release(batch);
    this.#ended(n);
    if (thrown) this.#raise(thrown.error);
  }

  batchFailed(state: PartitionState, batch: ProducerBatch, err: Error, kind: FailureKind = 'failed'): void {
    if (batch.done) return;
    const n = batch.liveCount;
    this.#partitions.remove(state, batch);
    this.#countFailures(n, kind);
    if (kind === 'failed') this.hooks.onFailure?.(err, batch);
    const thrown = batch.fail(err);
    this.#release(batch);
    this.#ended(n);
    if (thrown) this.#raise(thrown.error);
  }

  /** A batch whose records were all aborted: it leaves the queue and gives its memory back. */
  discard(state: PartitionState, batch: ProducerBatch): void {
    if (batch.done || batch.liveCount > 0 || batch.inFlight) return;
    this.#partitions.remove(state, batch);
    // No callbacks left to run: each ran when its record was aborted.
    batch.fail(new Error('unreachable: every record of this batch already ended'));
    this.#release(batch);
  }

  /** One record of an unsent batch, cancelled by its signal. False when it is too late. */
  recordAborted(state: PartitionState, batch: ProducerBatch, index: number, err: Error): boolean {
    const callback = batch.abort(index);
    if (callback === false) return false;
    this.#countFailures(1, 'aborted');
    const thrown = this.#call(callback, err);
    if (batch.allAborted) this.discard(state, batch);
    this.#ended(1);
    if (thrown) this.#raise(thrown.error);
    return true;
  }

  /** A record that never reached a batch. */
  pendingFailed(record: PendingRecord, err: Error, kind: FailureKind = 'failed'): void {
    if (record.settled) return;
    record.settled = true;
    this.#countFailures(1, kind);
    if (kind === 'failed') this.hooks.onFailure?.(err, undefined);
    const thrown = this.#call(record.callback, err);
    this.#ended(1);
    if (thrown) this.#raise(thrown.error);
  }

  #countFailures(n: number, kind: FailureKind): void {
    this.counters.recordsFailed += n;
    if (kind === 'aborted') this.counters.recordsAborted += n;
    else if (kind === 'dropped') this.counters.recordsDropped += n;
  }

  #call(callback: DeliveryCallback | undefined, err: Error): CallbackFailure | undefined {
    if (!callback) {
      debug('record failed: %s', err.message);
      return undefined;
    }
    try {
      callback(err, null);
    } catch (error) {
      return { error };
    }
    return undefined;
  }

  /** A batch replaced by others (a split) gives its memory back; its records live on in them. */
  releaseBuffer(batch: ProducerBatch): void {
    this.#release(batch);
  }

  #release(batch: ProducerBatch): void {
    if (batch.pooled) this.#pool.release(batch.buffer);
    else if (batch.charged > 0) {
      this.#pool.uncharge(batch.charged);
      batch.charged = 0;
    }
  }

  /** A batch's bytes are compressed: its pooled buffer goes back now (see ProducerBatch.compressed). */
  compressed(batch: ProducerBatch, bytes: Buffer): void {
    const pooled = batch.compressed(bytes);
    if (pooled) this.#pool.exchange(pooled, batch.charged);
  }

  /**
   * A finished batch moves its bytes out of a mostly empty pooled buffer, which is given
   * back now (see ProducerBatch.compact), unless memory is plentiful (BufferPool.spares:
   * `reserve` bytes free besides). Then the copy buys nothing: the buffer goes back with
   * the answer anyway, and the copy costs its bytes again in fresh memory (with 100-byte
   * records, copying every drained batch was ~7% of the producer's CPU). It is decided
   * here, before the request is written: later, the socket may still hold the bytes.
   */
  compact(batch: ProducerBatch, reserve: number): void {
    if (this.#pool.spares(reserve)) return;
    const pooled = batch.compact();
    if (pooled) this.#pool.exchange(pooled, batch.charged);
  }

  #ended(n: number): void {
    this.#unfinished -= n;
    if (this.#unfinished === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
