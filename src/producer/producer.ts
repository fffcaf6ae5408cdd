/**
 * The producer users import: the public API, and the accept path.
 *
 * send()/produce() validate the record, pick its partition and copy its bytes into the
 * partition's open batch before returning, so the caller owns its objects again at once.
 * When that cannot happen synchronously (the topic's metadata is not known yet, or the
 * memory budget is full) the record waits in its topic's queue (waiting.ts). Everything
 * after that is the sender's (sender.ts); every record ends through Completion.
 */
import { AsyncResource } from 'node:async_hooks';
import { debuglog } from 'node:util';
import { AbortedError, ConfigError, InvalidRecordError, ProducerClosedError, TransactionAbortedError, TransactionStateError } from '../errors.js';
import { shown } from '../shown.js';
import { Appender, batchBufferSizes } from './appender.js';
import type { BackoffSettings } from './backoff.js';
import type { Dialer } from './broker-channel.js';
import { Brokers, dialBroker } from './brokers.js';
import { BufferPool } from './buffer-pool.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { Completion } from './completion.js';
import { ProducerIdentity } from './idempotence.js';
import { eventLoopLoad, type LoopLoad } from './loop-load.js';
import { ClusterMetadata } from './metadata.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { PartitionChooser } from './partition-chooser.js';
import { Partitions, type PartitionState } from './partition-state.js';
import { recordTime } from './record-time.js';
import { SendBatchCall, type TakeRecordIn } from './send-batch.js';
import { Sender } from './sender.js';
import { SEND_CHANNEL, traced, withHeaders, type SendTraceContext } from './tracing.js';
import { TransactionManager, type OffsetToCommit, type TransactionState } from './transactions.js';
import type { DeliveryCallback, DeliveryOutcome, ProducerMetrics, ProducerOptions, ProducerRecord, RecordMetadata, SendOptions } from './types.js';
import { validateRecord } from './validate.js';
import { WaitingSends } from './waiting.js';

const debug = debuglog('kafka-wire');

export interface CloseOptions {
  /** How long to wait for buffered records to be delivered before failing them. Default: deliveryTimeoutMs. */
  timeoutMs?: number;
}

/** For tests: a fake clock and a scripted transport in place of time and sockets. */
export interface ProducerInternals {
  clock?: Clock;
  dial?: Dialer;
  /** The sender's safety-net run over every partition (sender.ts); tests turn it off with Infinity. */
  fullRunEveryMs?: number;
  /** Whether the event loop counts as busy (loop-load.ts); tests script it. */
  loopBusy?: LoopLoad;
}

/** How long close() gives connections to close politely once nothing is in flight, at most. */
const CLOSE_GRACE_MS = 1000;

/**
 * The settling functions of the promise send() is making, handed over by takeSettlers (the
 * Promise constructor calls it synchronously). One shared executor instead of a closure
 * per send(): a closure and its context fewer per record on the send() path.
 */
const noSettler = (): void => {};
const settlers: { resolve: (metadata: RecordMetadata) => void; reject: (err: Error) => void } = { resolve: noSettler, reject: noSettler };
function takeSettlers(resolve: (metadata: RecordMetadata) => void, reject: (err: Error) => void): void {
  settlers.resolve = resolve;
  settlers.reject = reject;
}

export class Producer {
  readonly #o: ResolvedOptions;
  readonly #clock: Clock;
  /** The timestamp of a record sent without one (see record-time.ts). */
  readonly #recordTime: () => number;
  /** Aborted when close() gives up waiting: every wait, dial and retry loop ends. */
  readonly #lifetime = new AbortController();
  readonly #metadata: ClusterMetadata;
  readonly #partitions = new Partitions();
  readonly #pool: BufferPool;
  readonly #completion: Completion;
  readonly #brokers: Brokers;
  readonly #sender: Sender;
  readonly #appender: Appender;
  readonly #waiting: WaitingSends;
  readonly #transactions: TransactionManager | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** beginTransaction() calls so far: transaction() sees whether its fn ended its transaction. */
  #transactionsBegun = 0;
  #metadataTimer: TimerHandle | undefined;

  constructor(options: ProducerOptions, internals: ProducerInternals = {}) {
    const o = (this.#o = resolveOptions(options));
    const clock = (this.#clock = internals.clock ?? systemClock);
    this.#recordTime = recordTime(clock);
    const signal = this.#lifetime.signal;
    const backoff: BackoffSettings = { base: o.retryBackoffMs, max: o.retryBackoffMaxMs };
    this.#pool = new BufferPool(o.bufferMemory, batchBufferSizes(o), clock);
    // A delivery callback that throws does not stop the other records' ends: what it threw
    // is raised afterwards, on its own turn, as Node raises what a callback of its own throws.
    this.#completion = new Completion(this.#pool, this.#partitions, (error) =>
      clock.soon(() => {
        throw error;
      }),
    );
    this.#brokers = new Brokers(o, internals.dial ?? dialBroker, clock, signal, () => this.#metadata.brokers);
    const any = (): ReturnType<Brokers['any']> => this.#brokers.any();
    this.#metadata = new ClusterMetadata({ any, clock, backoff, allowAutoTopicCreation: o.allowAutoTopicCreation, maxBlockMs: o.maxBlockMs, signal });
    const chooser = new PartitionChooser(o.batchSize, o.partitioner, o.adaptivePartitioning ? this.#partitions : undefined);
    const wake = (): void => this.#sender.wake();
    const opened = (state: PartitionState, readyAt: number): void => this.#sender.opened(state, readyAt);
    const ready = (state: PartitionState): void => this.#sender.ready(state);
    const loopBusy = internals.loopBusy ?? eventLoopLoad(clock);
    this.#appender = new Appender({ options: o, clock, partitions: this.#partitions, pool: this.#pool, chooser, completion: this.#completion, ready, opened, loopBusy });
    this.#waiting = new WaitingSends({
      options: o,
      clock,
      metadata: this.#metadata,
      pool: this.#pool,
      appender: this.#appender,
      completion: this.#completion,
      signal,
      onMetadataUsed: () => this.#startMetadataTimer(),
    });
    const identity = o.idempotent ? new ProducerIdentity() : undefined;
    if (o.transactionalId !== undefined) {
      const txn = (this.#transactions = new TransactionManager(o.transactionalId, o.transactionTimeoutMs, {
        identity: identity!,
        partitions: this.#partitions,
        any,
        connectTo: (nodeId, host, port) => this.#brokers.connectTo(nodeId, host, port),
        flush: () => this.flush(),
        dropUnsent: (err) => this.#dropUnsent(err),
        wake,
        clock,
        backoff,
        timeoutMs: o.maxBlockMs,
        signal,
      }));
      this.#completion.hooks = { onFailure: (err, batch) => txn.recordFailed(err, batch) };
    }
    this.#sender = new Sender({
      options: o,
      clock,
      identity,
      transactions: this.#transactions,
      metadata: this.#metadata,
      partitions: this.#partitions,
      brokers: this.#brokers,
      completion: this.#completion,
      pool: this.#pool,
      signal,
      ...(internals.fullRunEveryMs !== undefined ? { fullRunEveryMs: internals.fullRunEveryMs } : {}),
    });
    this.#metadata.onUpdate = () => this.#sender.wake();
    this.#brokers.onDialEnded = () => this.#sender.wake();
    this.#pool.onExhausted = () => this.#sender.wake();
  }

  // ---- transactions ----------------------------------------------------------------

  /** Where the transaction state machine is (undefined without a transactionalId). */
  get transactionState(): TransactionState | undefined {
    return this.#transactions?.state;
  }

  /** 1 or 2 (KIP-890) once initTransactions() has met the coordinator; undefined without transactions. */
  get transactionVersion(): 1 | 2 | undefined {
    if (!this.#transactions || this.#transactions.state === 'uninitialized') return undefined;
    return this.#transactions.isV2 ? 2 : 1;
  }

  /**
   * Registers the transactional id with its coordinator: a producer id and epoch, which
   * fences any older producer with the same id. Once, before the first transaction.
   */
  async initTransactions(): Promise<void> {
    this.#assertOpen();
    await this.#txn('initTransactions').init();
  }

  beginTransaction(): void {
    this.#assertOpen();
    this.#txn('beginTransaction').begin();
    this.#transactionsBegun++;
  }

  /** Commits a consumer group's offsets with the transaction (the read-process-write pattern). */
  async sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: { groupId: string }): Promise<void> {
    this.#assertOpen();
    checkOffsets(offsets, group);
    await this.#txn('sendOffsetsToTransaction').sendOffsets(offsets, group.groupId);
  }

  /**
   * Sends everything of the transaction, waits for it, then commits. Throws
   * TransactionAbortableError when something in the transaction failed (abort it),
   * ProducerFencedError when another producer took over.
   */
  async commitTransaction(): Promise<void> {
    this.#assertOpen();
    const txn = this.#txn('commitTransaction');
    // A sendBatch() still taking its records in finishes first: the commit holds all of it
    // (or, if one of them failed, refuses as abortable), never the part taken in so far.
    // Only when some call has records left: the commit's state change stays synchronous otherwise.
    if (txn.state === 'in-transaction' && this.#waiting.rests > 0) await this.#waiting.noRestsLeft();
    await txn.commit();
  }

  /** Fails what is not yet sent (TransactionAbortedError), waits for what is, then aborts. */
  async abortTransaction(): Promise<void> {
    this.#assertOpen();
    await this.#txn('abortTransaction').abort();
  }

  /**
   * Runs `fn` inside a transaction: commits when it resolves, aborts when it throws (and
   * rethrows). Initializes transactions on first use.
   */
  async transaction<T>(fn: (producer: this) => Promise<T>): Promise<T> {
    const txn = this.#txn('transaction');
    const before = txn.state;
    if (before === 'in-transaction' || before === 'committing' || before === 'aborting') {
      throw new TransactionStateError(
        `transaction() is not allowed while the transaction is ${before}: a producer runs one transaction at a time (await the transaction() under way, or commit or abort it; for transactions at once, one producer each: TransactionalProducerPool)`,
      );
    }
    if (txn.state === 'uninitialized') await this.initTransactions();
    this.beginTransaction();
    const begun = this.#transactionsBegun;
    let result: T;
    try {
      result = await fn(this);
    } catch (err) {
      if (txn.state === 'in-transaction' || txn.state === 'abortable-error') await this.abortTransaction();
      throw err;
    }
    if (txn.state === 'ready' || this.#transactionsBegun !== begun) {
      throw new TransactionStateError(
        'transaction(fn): fn ended the transaction itself (commitTransaction() or abortTransaction()): transaction() commits when fn resolves and aborts when it throws, so leave both to it',
      );
    }
    try {
      await this.commitTransaction();
    } catch (err) {
      if (txn.state === 'abortable-error') await this.abortTransaction();
      throw err;
    }
    return result;
  }

  #txn(what: string): TransactionManager {
    if (!this.#transactions) throw new TransactionStateError(`${what} needs a producer created with a transactionalId`);
    return this.#transactions;
  }

  // ---- sending ---------------------------------------------------------------------

  /** Fetches cluster metadata now; optional, since the first send() does it too. */
  async connect(): Promise<void> {
    this.#assertOpen();
    await this.#metadata.refresh();
    this.#startMetadataTimer();
  }

  /** Sends one record; resolves once the broker acknowledged it (per `acks`). */
  send(record: ProducerRecord, options: SendOptions = {}): Promise<RecordMetadata> {
    try {
      checkSignal(options.signal, 'send()');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const promise = new Promise<RecordMetadata>(takeSettlers);
    const { resolve, reject } = settlers;
    settlers.resolve = settlers.reject = noSettler;
    try {
      this.#submit(record, (err, metadata) => (err ? reject(err) : resolve(metadata!)), options.signal);
    } catch (err) {
      reject(err as Error);
    }
    return promise;
  }

  /**
   * Sends many records, in order; resolves when all are acknowledged, rejects at the first
   * failure. Every record is checked before any is taken in: one that can never be sent
   * (a wrong type, too big) rejects the call with nothing sent, so a caller who fixes it
   * and sends the batch again writes no record twice, and a transaction holds no part of
   * a batch it was told failed. Failures on the way to the broker are per record, as for
   * send(): the others may be written (a transaction makes it all or nothing).
   *
   * Records go straight into batches while nothing waits; from the first that cannot, the
   * rest wait in line (waiting.ts, BatchRest), taken in as memory frees: an array bigger
   * than the memory budget goes through at the producer's pace, and a send() made after
   * the call comes after all of its records. Records not yet taken in are read when they
   * are, so leave them unchanged until the call settles. At the first failure the call
   * stops: records not taken in by then are never sent, so the rejection is all the caller
   * has to act on.
   */
  sendBatch(records: readonly ProducerRecord[], options: SendOptions = {}): Promise<RecordMetadata[]> {
    const { signal } = options;
    try {
      if (!Array.isArray(records)) throw new InvalidRecordError(`sendBatch() takes an array of records, got ${shown(records)}`);
      checkSignal(signal, 'sendBatch()');
      // Here, not only per record: records that wait in line are taken in without these checks' timing.
      this.#assertOpen();
      this.#transactions?.assertCanSend();
      const now = this.#recordTime();
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        try {
          validateRecord(record);
          this.#appender.checkSize(record, record.timestamp ?? now);
        } catch (err) {
          // Of a call of thousands, the caller needs to know which.
          throw namingRecord(err as Error, i, records.length);
        }
      }
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const call = new SendBatchCall(records, this.#waiting, this.#takeInLate);
    let i = 0;
    // At once while nothing waits (most calls: then it is a loop of send()).
    for (; i < records.length && this.#waiting.count === 0; i++) {
      try {
        this.#submit(records[i]!, call.callbackFor(i), signal);
      } catch (err) {
        call.fail(err as Error);
        return call.promise;
      }
    }
    if (i < records.length) call.queueRest(i, signal);
    return call.promise;
  }

  /**
   * A record of a sendBatch() call's rest, taken in now that its turn in line came: the
   * checks send() makes (the call was made before any close(): no closed check), counted
   * as accepted; the waiting line then puts it in a batch.
   */
  readonly #takeInLate: TakeRecordIn = (record, callback) =>
    traced(SEND_CHANNEL) ? this.#traced(record, callback, (r, cb) => this.#checked(r, cb)) : this.#checked(record, callback);

  #checked(record: ProducerRecord, callback: DeliveryCallback): { record: ProducerRecord; timestamp: number; callback: DeliveryCallback } {
    const timestamp = this.#admissible(record, undefined);
    this.#completion.accepted();
    return { record, timestamp, callback };
  }

  /**
   * The fast path: no promise per record. Invalid input throws here; delivery success or
   * failure goes to `callback` (without one, failures are counted in metrics only).
   *
   * Returns false when the record could not go straight into a batch (memory full, or
   * metadata not there yet) and had to wait, or was refused: like `stream.write()`, that
   * asks the caller to `await producer.ready()` before producing more.
   */
  produce(record: ProducerRecord, callback?: (...outcome: DeliveryOutcome) => void): boolean;
  produce(record: ProducerRecord, callback?: DeliveryCallback): boolean;
  produce(record: ProducerRecord, callback?: DeliveryCallback | ((...outcome: DeliveryOutcome) => void)): boolean {
    // Either kind is called (error, null) or (null, metadata).
    return this.#submit(record, callback as DeliveryCallback | undefined, undefined);
  }

  /**
   * Resolves when no send waits for memory or metadata. After sends waited for memory and
   * went into batches, only once half the memory budget is free again, so that what the
   * caller produces next goes straight into batches (as a stream's 'drain' waits for its
   * buffer to empty); if the last waiting send failed instead, at once.
   */
  ready(): Promise<void> {
    return this.#waiting.ready();
  }

  /** Sends everything buffered now, without lingering, and waits until all of it has ended (and what sendBatch() calls still take in). */
  flush(): Promise<void> {
    return this.#drain();
  }

  /**
   * Stops accepting records, delivers what is buffered (up to `timeoutMs`), fails the
   * rest with ProducerClosedError, then closes every connection and timer. A sendBatch()
   * call made before close() still takes its records in meanwhile: they were submitted
   * before it, as a send() waiting for memory or metadata was. It settles
   * within `timeoutMs` plus at most a second for connections to close politely.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#o.deliveryTimeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const clock = this.#clock;
    const deadline = clock.now() + timeoutMs;
    let timer: TimerHandle | undefined;
    await Promise.race([this.#drain(), new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, timeoutMs)))]);
    clock.clearTimeout(timer);
    this.#lifetime.abort(new ProducerClosedError('the producer is closed'));
    this.#sender.stop();
    clock.clearTimeout(this.#metadataTimer);
    this.#failEverything();
    const grace = Math.max(0, Math.min(CLOSE_GRACE_MS, deadline - clock.now()));
    let graceTimer: TimerHandle | undefined;
    await Promise.race([this.#brokers.close(grace), new Promise<void>((resolve) => (graceTimer = clock.setTimeout(resolve, grace + 50)))]);
    clock.clearTimeout(graceTimer);
    // Whatever did not close politely in time goes now.
    await this.#brokers.close(0);
  }

  /**
   * Everything accepted before close() ended, what sendBatch() calls made before it still
   * take in included. The sender sends without lingering meanwhile; a last flush covers
   * records taken in after the first one found nothing left.
   */
  async #drain(): Promise<void> {
    if (this.#waiting.rests > 0) await Promise.all([this.#sender.flush(), this.#waiting.noRestsLeft()]);
    await this.#sender.flush();
  }

  /** close() gave up waiting: every record not yet ended fails, saying whether it may be written. */
  #failEverything(): void {
    const notSent = new ProducerClosedError('the producer was closed and this record was never sent');
    this.#waiting.failAll(notSent);
    this.#pool.rejectWaiters(notSent);
    const unknown = new ProducerClosedError('the producer was closed before an answer came for this record: it was sent and is not known to be written');
    for (const state of [...this.#partitions.active]) {
      for (const b of [...state.batches]) this.#completion.batchFailed(state, b, b.sent ? unknown : notSent);
    }
  }

  metrics(): ProducerMetrics {
    const c = this.#completion.counters;
    const now = this.#clock.now();
    return {
      ...c,
      bufferedBytes: this.#pool.used,
      bufferMemory: this.#o.bufferMemory,
      waitingSends: this.#waiting.count,
      waitingBytes: this.#waiting.bytes,
      waitsForMemory: this.#pool.waits,
      poolHits: this.#pool.hits,
      poolMisses: this.#pool.misses,
      brokers: [...this.#brokers.links()]
        .filter((l) => l.nodeId >= 0)
        .map((l) => ({
          nodeId: l.nodeId,
          address: l.address,
          requestsInFlight: l.inFlight,
          throttleTimeMs: l.throttleTimeMs,
          throttledUntil: l.throttledUntil > now ? l.throttledUntil : 0,
        })),
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ProducerClosedError('the producer is closed');
  }

  #submit(record: ProducerRecord, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): boolean {
    return traced(SEND_CHANNEL) ? this.#traced(record, callback, (r, cb) => this.#accept(r, cb, signal)) : this.#accept(record, callback, signal);
  }

  /** `take` (taking the record in) inside the send tracing channel's events (see tracing.ts). */
  #traced<R>(record: ProducerRecord, callback: DeliveryCallback | undefined, take: (record: ProducerRecord, callback: DeliveryCallback) => R): R {
    const ctx: SendTraceContext = { record, clientId: this.#o.clientId, headers: undefined, result: undefined, error: undefined };
    SEND_CHANNEL.start.publish(ctx);
    // The callback runs where send() was called (its async context, and so its span), not
    // in the context of whichever send first opened the connection that brings the answer.
    const delivered: DeliveryCallback = AsyncResource.bind((err: Error | null, metadata: RecordMetadata | null) => {
      if (err) {
        ctx.error = err;
        SEND_CHANNEL.error.publish(ctx);
      } else {
        ctx.result = metadata ?? undefined;
      }
      SEND_CHANNEL.asyncStart.publish(ctx);
      try {
        callback?.(err, metadata);
      } finally {
        SEND_CHANNEL.asyncEnd.publish(ctx);
      }
    });
    try {
      return take(ctx.headers ? withHeaders(record, ctx.headers) : record, delivered);
    } catch (err) {
      ctx.error = err as Error;
      SEND_CHANNEL.error.publish(ctx);
      throw err;
    } finally {
      SEND_CHANNEL.end.publish(ctx);
    }
  }

  /** Takes a record in: synchronously into a batch when it can, else into its topic's queue. */
  #accept(record: ProducerRecord, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): boolean {
    if (this.#closed) this.#assertOpen();
    const timestamp = this.#admissible(record, signal);
    this.#completion.accepted();
    const topic = this.#waiting.has(record.topic) ? undefined : this.#metadata.topic(record.topic);
    // A partition beyond what we know may be new: wait for metadata, as Java does.
    if (topic && (record.partition === undefined || record.partition < topic.partitions.length)) {
      try {
        let need = this.#appender.tryAppend(topic, record, timestamp, callback, signal);
        if (need !== true && this.#appender.makeRoom(need)) need = this.#appender.tryAppend(topic, record, timestamp, callback, signal);
        if (need === true) return true;
      } catch (err) {
        this.#completion.pendingFailed({ callback, settled: false }, err as Error);
        return false;
      }
    }
    this.#waiting.add(record, timestamp, callback, signal);
    return false;
  }

  /** Throws why `record` cannot be taken in now; else its timestamp. */
  #admissible(record: ProducerRecord, signal: AbortSignal | undefined): number {
    validateRecord(record);
    this.#transactions?.assertCanSend();
    if (signal?.aborted) throw new AbortedError('send aborted before it started', { cause: signal.reason });
    const timestamp = record.timestamp ?? this.#recordTime();
    this.#appender.checkSize(record, timestamp);
    return timestamp;
  }

  /** Fails every record not in a request now (waiting sends, unsent batches, batches waiting to be retried). */
  #dropUnsent(err: Error): void {
    this.#waiting.failAll(err);
    for (const [state, b] of [...this.#partitions.unsent()]) this.#completion.batchFailed(state, b, err);
  }

  #startMetadataTimer(): void {
    if (this.#metadataTimer || this.#closed || this.#o.metadataMaxAgeMs === 0) return;
    const tick = (): void => {
      this.#metadata.refresh().catch((err: unknown) => debug('periodic metadata refresh failed: %s', (err as Error).message));
      // Metadata upkeep alone must not keep the process alive.
      this.#metadataTimer = this.#clock.setTimeout(tick, this.#o.metadataMaxAgeMs, { unref: true });
    };
    this.#metadataTimer = this.#clock.setTimeout(tick, this.#o.metadataMaxAgeMs, { unref: true });
  }
}

/**
 * A send option `signal`, checked before any record is taken in: an object without
 * addEventListener would fail only after its record went into a batch (or a wait), then
 * written or never ended.
 */
function checkSignal(signal: unknown, what: string): void {
  if (signal === undefined) return;
  const s = signal as Partial<AbortSignal> | null;
  if (typeof s !== 'object' || s === null || typeof s.addEventListener !== 'function' || typeof s.aborted !== 'boolean') {
    const hint = typeof s === 'object' && s !== null && 'signal' in s ? ' (an AbortController was passed: give its .signal)' : '';
    throw new ConfigError(`${what} option signal must be an AbortSignal, got ${shown(signal)}${hint}`);
  }
}

/**
 * sendOffsetsToTransaction's arguments, checked before anything is asked of the
 * coordinator: a group given as a string (as some clients take it) or an offset of the
 * wrong type would otherwise fail deep inside, or as a broker error after a round trip.
 */
function checkOffsets(offsets: readonly OffsetToCommit[], group: { groupId: string }): void {
  if (typeof group !== 'object' || group === null || typeof group.groupId !== 'string' || group.groupId === '') {
    throw new ConfigError(`sendOffsetsToTransaction() takes the consumer group as { groupId: string }, got ${shown(group)}`);
  }
  if (!Array.isArray(offsets)) throw new ConfigError(`sendOffsetsToTransaction() takes an array of { topic, partition, offset }, got ${shown(offsets)}`);
  for (const o of offsets as unknown[]) {
    const { topic, partition, offset } = (o ?? {}) as Partial<OffsetToCommit>;
    const offsetOk = (typeof offset === 'number' && Number.isSafeInteger(offset)) || typeof offset === 'bigint' || (typeof offset === 'string' && /^\d+$/.test(offset));
    if (typeof topic !== 'string' || !Number.isInteger(partition) || (partition as number) < 0 || !offsetOk) {
      throw new ConfigError(`sendOffsetsToTransaction() offsets are { topic: string, partition: integer >= 0, offset: integer }, got ${shown(o)}`);
    }
  }
}

/**
 * `err` (made for this one record, of its own type) with the record's place in its
 * sendBatch() call in its message: nothing of the call was sent.
 */
function namingRecord(err: Error, index: number, count: number): Error {
  const message = `sendBatch(): record ${index} (of ${count}; none of them sent): ${err.message}`;
  if (err.stack?.includes(err.message)) err.stack = err.stack.replace(err.message, message);
  err.message = message;
  return err;
}
