/**
 * The producer users import: the public API, and the accept path.
 *
 * send()/produce() validate the record, pick its partition and copy its bytes into the
 * partition's open batch before returning, so the caller owns its objects again at once.
 * When that cannot happen synchronously (the topic's metadata is not known yet, or the
 * memory budget is full) the record waits in its topic's queue (waiting.ts). Everything
 * after that is the sender's (sender.ts); every record ends through Completion.
 */
import { debuglog } from 'node:util';
import {
  AbortedError,
  BufferFullError,
  ProducerClosedError,
  RecordDroppedError,
  RecordTooLargeError,
  TransactionStateError,
} from '../errors.js';
import { ProduceRequestSize } from '../protocol/produce-size.js';
import { sizeOfRecordBatch } from '../protocol/records/index.js';
import type { BackoffSettings } from './backoff.js';
import type { Dialer } from './broker-channel.js';
import { Brokers, dialBroker } from './brokers.js';
import { BufferPool } from './buffer-pool.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { Completion } from './completion.js';
import { ProducerIdentity } from './idempotence.js';
import { ClusterMetadata, type TopicState } from './metadata.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { PartitionChooser } from './partition-chooser.js';
import { Partitions, type PartitionState } from './partition-state.js';
import { ProducerBatch } from './producer-batch.js';
import { Sender } from './sender.js';
import { TransactionManager, type OffsetToCommit, type TransactionState } from './transactions.js';
import type { DeliveryCallback, ProducerMetrics, ProducerOptions, ProducerRecord, RecordMetadata, SendOptions } from './types.js';
import { validateRecord } from './validate.js';
import { ownCopy, TopicWaitQueue, waitingCost, type WaitingSend } from './waiting.js';

const debug = debuglog('kafka-wire');

/** An upper bound on the UTF-8 bytes of a key or value, without encoding it. */
function roughLength(v: ProducerRecord['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? v.length * 3 : v.byteLength;
}

export interface CloseOptions {
  /** How long to wait for buffered records to be delivered before failing them. Default: deliveryTimeoutMs. */
  timeoutMs?: number;
}

/** For tests: a fake clock and a scripted transport in place of time and sockets. */
export interface ProducerInternals {
  clock?: Clock;
  dial?: Dialer;
}

/** How long close() gives connections to close politely once nothing is in flight, at most. */
const CLOSE_GRACE_MS = 1000;

export class Producer {
  readonly #o: ResolvedOptions;
  readonly #clock: Clock;
  /** Aborted when close() gives up waiting: every wait, dial and retry loop ends. */
  readonly #lifetime = new AbortController();
  readonly #metadata: ClusterMetadata;
  readonly #partitions = new Partitions();
  readonly #pool: BufferPool;
  readonly #completion: Completion;
  readonly #brokers: Brokers;
  readonly #sender: Sender;
  readonly #chooser: PartitionChooser;
  readonly #transactions: TransactionManager | undefined;
  readonly #waiting = new Map<string, TopicWaitQueue>();
  #waitingSends = 0;
  #waitingBytes = 0;
  #waitingFullError: BufferFullError | undefined;
  #readyWaiters: Array<() => void> = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #metadataTimer: TimerHandle | undefined;

  constructor(options: ProducerOptions, internals: ProducerInternals = {}) {
    const o = (this.#o = resolveOptions(options));
    const clock = (this.#clock = internals.clock ?? systemClock);
    const signal = this.#lifetime.signal;
    const backoff: BackoffSettings = { base: o.retryBackoffMs, max: o.retryBackoffMaxMs };
    this.#pool = new BufferPool(o.bufferMemory, [o.batchSize, o.maxBatchSize], clock);
    this.#completion = new Completion(this.#pool, this.#partitions);
    this.#brokers = new Brokers(o, internals.dial ?? dialBroker, clock, signal, () => this.#metadata.brokers);
    const any = (): ReturnType<Brokers['any']> => this.#brokers.any();
    this.#metadata = new ClusterMetadata({ any, clock, backoff, allowAutoTopicCreation: o.allowAutoTopicCreation, signal });
    this.#chooser = new PartitionChooser(o.batchSize, o.partitioner, o.adaptivePartitioning ? this.#partitions : undefined);
    const identity = o.idempotent ? new ProducerIdentity() : undefined;
    if (o.transactionalId !== undefined) {
      const txn = (this.#transactions = new TransactionManager(o.transactionalId, o.transactionTimeoutMs, {
        identity: identity!,
        partitions: this.#partitions,
        any,
        connectTo: (nodeId, host, port) => this.#brokers.connectTo(nodeId, host, port),
        flush: () => this.#sender.flush(),
        dropUnsent: (err) => this.#dropUnsent(err),
        wake: () => this.#sender.wake(),
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
      signal,
    });
    this.#metadata.onUpdate = () => this.#sender.wake();
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
  }

  /** Commits a consumer group's offsets with the transaction (the read-process-write pattern). */
  async sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: { groupId: string }): Promise<void> {
    this.#assertOpen();
    await this.#txn('sendOffsetsToTransaction').sendOffsets(offsets, group.groupId);
  }

  /**
   * Sends everything of the transaction, waits for it, then commits. Throws
   * TransactionAbortableError when something in the transaction failed (abort it),
   * ProducerFencedError when another producer took over.
   */
  async commitTransaction(): Promise<void> {
    this.#assertOpen();
    await this.#txn('commitTransaction').commit();
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
    if (txn.state === 'uninitialized') await this.initTransactions();
    this.beginTransaction();
    let result: T;
    try {
      result = await fn(this);
    } catch (err) {
      if (txn.state === 'in-transaction' || txn.state === 'abortable-error') await this.abortTransaction();
      throw err;
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
    return new Promise((resolve, reject) => {
      try {
        this.#accept(record, (err, metadata) => (err ? reject(err) : resolve(metadata!)), options.signal);
      } catch (err) {
        reject(err);
      }
    });
  }

  /** Sends many records, in order; resolves when all are acknowledged, rejects at the first failure. */
  sendBatch(records: readonly ProducerRecord[], options: SendOptions = {}): Promise<RecordMetadata[]> {
    return Promise.all(records.map((r) => this.send(r, options)));
  }

  /**
   * The fast path: no promise per record. Invalid input throws here; delivery success or
   * failure goes to `callback` (without one, failures are counted in metrics only).
   *
   * Returns false when the record could not go straight into a batch (memory full, or
   * metadata not there yet) and had to wait, or was refused: like `stream.write()`, that
   * asks the caller to `await producer.ready()` before producing more.
   */
  produce(record: ProducerRecord, callback?: DeliveryCallback): boolean {
    return this.#accept(record, callback, undefined);
  }

  /** Resolves when no send waits for memory or metadata. */
  ready(): Promise<void> {
    if (this.#waitingSends === 0) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Sends everything buffered now, without lingering, and waits until all of it has ended. */
  flush(): Promise<void> {
    return this.#sender.flush();
  }

  /**
   * Stops accepting records, delivers what is buffered (up to `timeoutMs`), fails the
   * rest with ProducerClosedError, then closes every connection and timer. It settles
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
    await Promise.race([this.#sender.flush(), new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, timeoutMs)))]);
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

  /** close() gave up waiting: every record not yet ended fails, saying whether it may be written. */
  #failEverything(): void {
    const notSent = new ProducerClosedError('the producer was closed before this record was sent');
    for (const queue of this.#waiting.values()) {
      queue.headWait?.abort();
      for (const w of [...queue.sends]) this.#endWaiting(queue, w, notSent);
    }
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
      waitingSends: this.#waitingSends,
      waitingBytes: this.#waitingBytes,
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

  /** Takes a record in: synchronously into a batch when it can, else into its topic's queue. */
  #accept(record: ProducerRecord, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): boolean {
    this.#assertOpen();
    validateRecord(record);
    this.#transactions?.assertCanSend();
    if (signal?.aborted) throw new AbortedError('send aborted before it started', { cause: signal.reason });
    const timestamp = record.timestamp ?? this.#clock.now();
    this.#checkSize(record, timestamp);
    this.#completion.accepted();
    const queue = this.#waiting.get(record.topic);
    if (queue === undefined || queue.live === 0) {
      const topic = this.#metadata.topic(record.topic);
      // A partition beyond what we know may be new: wait for metadata, as Java does.
      if (topic && (record.partition === undefined || record.partition < topic.partitions.length)) {
        let need = this.#appendNow(topic, record, timestamp, callback, signal);
        if (need !== true && this.#o.bufferFullPolicy === 'drop-oldest' && this.#dropOldest(need)) need = this.#appendNow(topic, record, timestamp, callback, signal);
        if (need === true) return true;
        if (this.#o.bufferFullPolicy === 'fail') {
          this.#completion.pendingFailed({ callback, settled: false }, this.#memoryFull());
          return false;
        }
      }
    }
    this.#wait(record, timestamp, callback, signal);
    return false;
  }

  #memoryFull(): BufferFullError {
    return new BufferFullError(`the ${this.#o.bufferMemory}-byte memory budget (bufferMemory) is full and bufferFullPolicy is 'fail'`);
  }

  /** A record too big to ever be sent is refused at once, not after a trip to the broker. */
  #checkSize(record: ProducerRecord, timestamp: number): void {
    // Cheap bound first (Java's estimate: 61 + 21 + key + value, plus headers): most
    // records are nowhere near a limit, and the exact size is only needed near one.
    const rough = 82 + roughLength(record.key) + roughLength(record.value) + (record.headers ? 4096 : 0) + 3 * record.topic.length;
    if (rough + 1024 < Math.min(this.#o.maxRequestSize, this.#o.bufferMemory) && record.headers === undefined) return;
    const alone = sizeOfRecordBatch([{ key: record.key ?? null, value: record.value, headers: record.headers, timestamp }], timestamp);
    // Produce v3 frames cost the most bytes around a batch: check against the worst case.
    const request = new ProduceRequestSize(3, this.#o.clientId, null);
    const requestBytes = request.bytes + request.growth(record.topic, alone);
    if (requestBytes > this.#o.maxRequestSize || alone > this.#o.bufferMemory) {
      const limit = requestBytes > this.#o.maxRequestSize ? `maxRequestSize (${this.#o.maxRequestSize})` : `bufferMemory (${this.#o.bufferMemory})`;
      throw new RecordTooLargeError(`a record of ${alone} bytes as a batch (${requestBytes} as a request) for ${record.topic} is over ${limit}`);
    }
  }

  /**
   * Appends now if a batch has room or memory is free (or `reserved` was set aside for
   * it); otherwise the bytes of memory a new batch needs.
   */
  #appendNow(
    topic: TopicState,
    record: ProducerRecord,
    timestamp: number,
    callback: DeliveryCallback | undefined,
    signal: AbortSignal | undefined,
    reserved?: Buffer,
  ): true | number {
    const o = this.#o;
    const partition = this.#chooser.choose(topic, record);
    const state = this.#partitions.get(topic.name, partition);
    let batch = state.open;
    let sizeBefore = batch?.sizeInBytes ?? 0;
    if (batch && batch.tryAppend(record, timestamp, callback)) {
      if (reserved) this.#pool.release(reserved);
      if (batch.sizeInBytes >= o.batchSize) this.#sender.wake();
    } else {
      const need = Math.max(o.batchSize, sizeOfRecordBatch([{ key: record.key ?? null, value: record.value, headers: record.headers, timestamp }], timestamp));
      // With batches of this partition already queued or in flight, a new one could not
      // leave before they are answered anyway: let it grow if memory allows, so the next
      // request carries more records for the same per-request cost (up to maxBatchSize).
      const grown = !reserved && state.batches.length > 0 && o.maxBatchSize > need ? this.#pool.tryAllocate(o.maxBatchSize) : undefined;
      const buffer = reserved && reserved.length >= need ? reserved : (grown ?? this.#pool.tryAllocate(need));
      if (reserved && buffer !== reserved) this.#pool.release(reserved);
      if (!buffer) return need;
      const now = this.#clock.now();
      batch = new ProducerBatch(topic.name, partition, buffer, now, now + o.deliveryTimeoutMs);
      this.#partitions.add(state, batch);
      sizeBefore = batch.sizeInBytes;
      if (!batch.tryAppend(record, timestamp, callback)) throw new Error('kafka-wire bug: a record does not fit the batch sized for it');
      this.#sender.wake();
    }
    this.#chooser.appended(topic.name, partition, batch.sizeInBytes, batch.sizeInBytes - sizeBefore);
    if (signal) this.#abortableInBatch(state, batch, signal);
    return true;
  }

  /** Lets the record just appended be cancelled by its signal until its batch goes into a request. */
  #abortableInBatch(state: PartitionState, batch: ProducerBatch, signal: AbortSignal): void {
    const index = batch.lastIndex;
    const onAbort = (): void => {
      this.#completion.recordAborted(state, batch, index, new AbortedError('send aborted before its record went into a request', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    batch.onSettled(index, () => signal.removeEventListener('abort', onAbort));
  }

  /**
   * `bufferFullPolicy: 'drop-oldest'`: fails the oldest batches not yet in a request (nor
   * ever sent) until `need` bytes are free. False when nothing is left to drop.
   */
  #dropOldest(need: number): boolean {
    while (!this.#pool.canAllocate(need)) {
      let oldest: [PartitionState, ProducerBatch] | undefined;
      for (const state of this.#partitions.active) {
        const b = state.batches.find((x) => !x.inFlight && !x.sent && x.baseSequence < 0);
        if (b && (!oldest || b.createdAt < oldest[1].createdAt)) oldest = [state, b];
      }
      if (!oldest) return false;
      const [state, b] = oldest;
      const err = new RecordDroppedError(`dropped unsent to make room: the ${this.#o.bufferMemory}-byte memory budget (bufferMemory) was full and bufferFullPolicy is 'drop-oldest'`);
      this.#completion.batchFailed(state, b, err, 'dropped');
    }
    return true;
  }

  // ---- waiting sends ---------------------------------------------------------------

  #wait(record: ProducerRecord, timestamp: number, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): void {
    const bytes = waitingCost(record);
    if (this.#waitingBytes + bytes > this.#o.bufferMemory) {
      this.#completion.pendingFailed({ callback, settled: false }, this.#waitingFull());
      return;
    }
    let queue = this.#waiting.get(record.topic);
    if (!queue) this.#waiting.set(record.topic, (queue = new TopicWaitQueue(record.topic)));
    const w: WaitingSend = {
      record: ownCopy(record),
      bytes,
      timestamp,
      callback,
      signal,
      deadline: this.#clock.now() + this.#o.maxBlockMs,
      settled: false,
      onAbort: undefined,
    };
    if (signal) {
      const q = queue;
      w.onAbort = () => this.#endWaiting(q, w, new AbortedError('send aborted while waiting for metadata or memory', { cause: signal.reason }), 'aborted');
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    queue.sends.push(w);
    queue.live++;
    this.#waitingSends++;
    this.#waitingBytes += w.bytes;
    void this.#serve(queue);
  }

  /**
   * The error for a send refused because the waiting budget is full. One object serves
   * every refusal until the budget has room again: a caller ignoring backpressure may be
   * refused millions of times, and an error with its stack trace per refusal would cost
   * more memory than the records it keeps out.
   */
  #waitingFull(): BufferFullError {
    this.#waitingFullError ??= new BufferFullError(
      `${this.#waitingSends} sends already wait for metadata or memory, holding ${this.#waitingBytes} bytes of their ${this.#o.bufferMemory}-byte budget (bufferMemory): further sends are refused until they drain; honour produce()'s backpressure (await ready())`,
    );
    return this.#waitingFullError;
  }

  /** Serves one topic's waiting sends in order: metadata first, then memory, then the append. */
  async #serve(queue: TopicWaitQueue): Promise<void> {
    if (queue.serving) return;
    queue.serving = true;
    try {
      for (let w = queue.sends.peek(); w && !this.#lifetime.signal.aborted; w = queue.sends.peek()) {
        if (w.settled) {
          queue.sends.shift();
          continue;
        }
        const wait = (queue.headWait = new AbortController());
        try {
          await this.#admit(w, wait.signal);
          this.#endWaiting(queue, w);
        } catch (err) {
          this.#endWaiting(queue, w, err as Error);
        } finally {
          queue.headWait = undefined;
        }
      }
    } finally {
      queue.serving = false;
      if (queue.live === 0 && this.#waiting.get(queue.topic) === queue) this.#waiting.delete(queue.topic);
    }
  }

  /** Waits for what the send needs and appends it; throws why it cannot be. */
  async #admit(w: WaitingSend, signal: AbortSignal): Promise<void> {
    const { record } = w;
    let topic = this.#metadata.topic(record.topic);
    if (!topic || (record.partition !== undefined && record.partition >= topic.partitions.length)) {
      topic = await this.#metadata.waitForTopic(record.topic, w.deadline, record.partition ?? 0, signal);
      this.#startMetadataTimer();
    }
    for (let reserved: Buffer | undefined; !w.settled; ) {
      const need = this.#appendNow(topic, record, w.timestamp, w.callback, w.signal, reserved);
      if (need === true) return;
      if (this.#o.bufferFullPolicy === 'fail') throw this.#memoryFull();
      if (this.#o.bufferFullPolicy === 'drop-oldest' && this.#dropOldest(need)) continue;
      reserved = await this.#pool.allocate(need, w.deadline - this.#clock.now(), signal);
      if (w.settled) this.#pool.release(reserved);
    }
  }

  /** A waiting send leaves its queue: into a batch (no `err`), or ended with `err`. */
  #endWaiting(queue: TopicWaitQueue, w: WaitingSend, err?: Error, kind: 'failed' | 'aborted' = 'failed'): void {
    if (w.settled) return;
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    queue.live--;
    this.#waitingSends--;
    this.#waitingBytes -= w.bytes;
    this.#waitingFullError = undefined;
    if (queue.sends.peek() === w) {
      queue.sends.shift();
      if (err) queue.headWait?.abort();
    }
    if (err) this.#completion.pendingFailed(w, err, kind);
    else w.settled = true;
    if (this.#waitingSends === 0) for (const wake of this.#readyWaiters.splice(0)) wake();
  }

  /** Fails every record not in a request now (waiting sends, unsent batches, batches waiting to be retried). */
  #dropUnsent(err: Error): void {
    for (const queue of this.#waiting.values()) for (const w of [...queue.sends]) this.#endWaiting(queue, w, err);
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
