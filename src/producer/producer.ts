/**
 * The producer users import.
 *
 * send()/produce() validate the record, pick its partition and copy its bytes into the
 * partition's open batch before returning, so the caller owns its objects again at once.
 * When that cannot happen synchronously (the topic's metadata is not known yet, or the
 * memory budget is full) the record joins one FIFO of waiting sends, which keeps the
 * order of send() calls; every later send queues behind it.
 */
import { debuglog } from 'node:util';
import { AbortedError, ProducerClosedError, RecordTooLargeError, TransactionStateError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { ProduceRequestSize } from '../protocol/produce-size.js';
import { sizeOfRecordBatch } from '../protocol/records/index.js';
import { Accumulator } from './accumulator.js';
import { BufferPool } from './buffer-pool.js';
import { ProducerIdentity } from './idempotence.js';
import { ClusterMetadata, type TopicState } from './metadata.js';
import { NodeConnection } from './node-connections.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { PartitionChooser } from './partition-chooser.js';
import { ProducerBatch } from './producer-batch.js';
import { Sender } from './sender.js';
import { TransactionManager, type OffsetToCommit, type TransactionState } from './transactions.js';
import type { Bytes, DeliveryCallback, ProducerMetrics, ProducerOptions, ProducerRecord, RecordMetadata, SendOptions } from './types.js';
import { validateRecord } from './validate.js';

const debug = debuglog('kafka-wire');

function copyBytes(v: Bytes | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : Buffer.from(v);
}

/** A record whose bytes nobody else holds, for a send that cannot be encoded at once. */
function ownCopy(r: ProducerRecord): ProducerRecord {
  const headers = r.headers === undefined ? undefined
    : Array.isArray(r.headers)
      ? (r.headers as ReadonlyArray<{ key: string; value: Bytes | null }>).map((h) => ({ key: h.key, value: copyBytes(h.value) }))
      : Object.entries(r.headers).map(([key, value]) => ({ key, value: copyBytes(value) }));
  return { topic: r.topic, key: copyBytes(r.key), value: copyBytes(r.value), headers, partition: r.partition, timestamp: r.timestamp };
}

/** An upper bound on the UTF-8 bytes of a key or value, without encoding it. */
function roughLength(v: ProducerRecord['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? v.length * 3 : v.byteLength;
}

interface WaitingSend {
  record: ProducerRecord;
  timestamp: number;
  callback: DeliveryCallback | undefined;
  signal: AbortSignal | undefined;
  deadline: number;
  onAbort: (() => void) | undefined;
}

export interface CloseOptions {
  /** How long to wait for buffered records to be delivered before failing them. Default: deliveryTimeoutMs. */
  timeoutMs?: number;
}

export class Producer {
  readonly #o: ResolvedOptions;
  readonly #metadata: ClusterMetadata;
  readonly #accumulator: Accumulator;
  readonly #pool: BufferPool;
  readonly #sender: Sender;
  readonly #partitions: PartitionChooser;
  /** Connections by `host:port`; the bootstrap ones become brokers' once metadata names them. */
  readonly #nodes = new Map<string, NodeConnection>();
  readonly #waiting: WaitingSend[] = [];
  #servingWaiting = false;
  /** Records accepted and not yet delivered or failed (waiting sends included). */
  #unfinished = 0;
  #idleWaiters: Array<() => void> = [];
  #readyWaiters: Array<() => void> = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #metadataTimer: NodeJS.Timeout | undefined;
  #bootstrapIndex = 0;
  readonly #transactions: TransactionManager | undefined;

  constructor(options: ProducerOptions) {
    this.#o = resolveOptions(options);
    this.#pool = new BufferPool(this.#o.bufferMemory, [this.#o.batchSize, this.#o.maxBatchSize]);
    this.#accumulator = new Accumulator(this.#o.lingerMs);
    this.#metadata = new ClusterMetadata(() => this.#anyConnection(), this.#o.allowAutoTopicCreation);
    this.#partitions = new PartitionChooser(this.#o.batchSize, this.#o.partitioner, this.#o.adaptivePartitioning ? this.#accumulator : undefined);
    const identity = this.#o.idempotent ? new ProducerIdentity() : undefined;
    if (this.#o.transactionalId !== undefined) {
      this.#transactions = new TransactionManager(this.#o.transactionalId, this.#o.transactionTimeoutMs, {
        identity: identity!,
        anyConnection: () => this.#anyConnection(),
        connectTo: (nodeId, host, port) => this.#connectTo(nodeId, host, port),
        flush: () => this.flush(),
        dropUnsent: (err) => {
          // A dropped batch that had its sequence leaves a hole (or, if it was sent, maybe not):
          // the next transaction needs a new epoch either way.
          if (this.#dropUnsent(err)) identity!.bumpRequired = true;
        },
        wake: () => this.#sender.wake(),
        retryBackoffMs: this.#o.retryBackoffMs,
        timeoutMs: this.#o.maxBlockMs,
      });
    }
    this.#sender = new Sender({
      options: this.#o,
      identity,
      transactions: this.#transactions,
      anyConnection: () => this.#anyConnection(),
      metadata: this.#metadata,
      accumulator: this.#accumulator,
      pool: this.#pool,
      nodeFor: (nodeId) => this.#nodeFor(nodeId),
      onRecordsDone: (n) => this.#recordsDone(n),
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

  /** Sends everything of the transaction, waits for it, then commits. */
  async commitTransaction(): Promise<void> {
    this.#assertOpen();
    await this.#txn('commitTransaction').commit();
  }

  /** Drops what is not yet sent, waits for what is, then aborts. */
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

  /**
   * Fails every record not in a request now (waiting sends, unsent batches, batches
   * waiting to be retried); true when one of the dropped batches had a sequence.
   */
  #dropUnsent(err: Error): boolean {
    let sequenced = false;
    for (const w of this.#waiting.splice(0)) {
      this.#forget(w);
      this.#finish(w.callback, err);
    }
    for (const q of this.#accumulator.all()) {
      for (const b of [...q.batches]) {
        if (b.inFlight) continue;
        if (b.baseSequence >= 0) sequenced = true;
        this.#accumulator.remove(q, b);
        const n = b.recordCount;
        b.fail(err);
        if (b.pooled) this.#pool.release(b.buffer);
        this.#recordsDone(n);
      }
    }
    return sequenced;
  }

  #connectTo(nodeId: number, host: string, port: number): Promise<BrokerConnection> {
    const address = `${host}:${port}`;
    let node = this.#nodes.get(address);
    if (!node) this.#nodes.set(address, (node = new NodeConnection({ host, port }, nodeId)));
    return node.open(this.#o);
  }

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
   * metadata not there yet) and had to queue: like `stream.write()`, that asks the caller
   * to `await producer.ready()` before producing more, which keeps memory bounded.
   */
  produce(record: ProducerRecord, callback?: DeliveryCallback): boolean {
    return this.#accept(record, callback, undefined);
  }

  /** Resolves when no send is queued behind the memory budget or metadata. */
  ready(): Promise<void> {
    if (this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Sends everything buffered now, without lingering, and waits until all of it is settled. */
  async flush(): Promise<void> {
    if (this.#unfinished === 0) return;
    this.#sender.flushing++;
    this.#sender.wake();
    try {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    } finally {
      this.#sender.flushing--;
    }
  }

  /**
   * Stops accepting records, delivers what is buffered (up to `timeoutMs`), fails the
   * rest with ProducerClosedError, then closes every connection and timer.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#o.deliveryTimeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    const err = new ProducerClosedError('the producer was closed before this record was delivered');
    this.#sender.stop();
    if (this.#metadataTimer) clearInterval(this.#metadataTimer);
    this.#pool.rejectWaiters(err);
    for (const w of this.#waiting.splice(0)) this.#finish(w.callback, err);
    for (const wake of this.#readyWaiters.splice(0)) wake();
    for (const q of this.#accumulator.all()) {
      for (const b of q.batches.splice(0)) {
        this.#recordsDone(b.recordCount);
        b.fail(err);
      }
    }
    await Promise.all([...this.#nodes.values()].map((n) => n.close(1000)));
    this.#nodes.clear();
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  metrics(): ProducerMetrics {
    const c = this.#sender.counters;
    return {
      recordsSent: c.recordsSent,
      recordsFailed: c.recordsFailed,
      bytesSent: c.bytesSent,
      requestsSent: c.requestsSent,
      retries: c.retries,
      bufferedBytes: this.#pool.used,
      bufferMemory: this.#o.bufferMemory,
      waitsForMemory: this.#pool.waits,
      poolHits: this.#pool.hits,
      poolMisses: this.#pool.misses,
      requestsInFlight: c.requestsInFlight,
      brokers: [...this.#nodes.values()]
        .filter((n) => n.nodeId >= 0)
        .map((n) => ({
          nodeId: n.nodeId,
          address: n.address,
          requestsInFlight: this.#sender.inFlightFor(n.nodeId),
          throttleTimeMs: n.throttleTimeMs,
          throttledUntil: n.throttledUntil > Date.now() ? n.throttledUntil : 0,
        })),
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new ProducerClosedError('the producer is closed');
  }

  /** Takes a record in: synchronously into a batch when it can, else into the waiting FIFO. */
  #accept(record: ProducerRecord, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): boolean {
    this.#assertOpen();
    validateRecord(record);
    this.#transactions?.assertCanSend();
    if (signal?.aborted) throw new AbortedError('send aborted before it started', { cause: signal.reason });
    const timestamp = record.timestamp ?? Date.now();
    this.#checkSize(record, timestamp);
    let topic = this.#waiting.length === 0 ? this.#metadata.topic(record.topic) : undefined;
    // A partition beyond what we know may be new: wait for metadata, as Java does.
    if (topic && record.partition !== undefined && record.partition >= topic.partitions.length) topic = undefined;
    this.#unfinished++;
    try {
      if (topic && this.#appendNow(topic, record, timestamp, callback, signal) === true) return true;
    } catch (err) {
      this.#unfinished--;
      throw err;
    }
    // The caller owns its record again when send() returns: a waiting record keeps a copy.
    const waiting: WaitingSend = { record: ownCopy(record), timestamp, callback, signal, deadline: Date.now() + this.#o.maxBlockMs, onAbort: undefined };
    if (signal) {
      waiting.onAbort = () => this.#abortWaiting(waiting);
      signal.addEventListener('abort', waiting.onAbort, { once: true });
    }
    this.#waiting.push(waiting);
    void this.#serveWaiting();
    return false;
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

  /** Appends now if a batch has room or memory is free; otherwise the bytes of memory it waits for. */
  #appendNow(topic: TopicState, record: ProducerRecord, timestamp: number, callback: DeliveryCallback | undefined, signal: AbortSignal | undefined): true | number {
    const partition = this.#partitions.choose(topic, record);
    const q = this.#accumulator.queue(topic.name, partition);
    let batch = q.open;
    let sizeBefore = batch?.sizeInBytes ?? 0;
    if (!batch || !batch.tryAppend(record, timestamp, callback)) {
      const need = Math.max(this.#o.batchSize, sizeOfRecordBatch([{ key: record.key ?? null, value: record.value, headers: record.headers, timestamp }], timestamp));
      // With batches of this partition already queued or in flight, a new one could not
      // leave before they are answered anyway: let it grow if memory allows, so the next
      // request carries more records for the same per-request cost (up to maxBatchSize).
      const grown = q.batches.length > 0 && this.#o.maxBatchSize > need ? this.#pool.tryAllocate(this.#o.maxBatchSize) : undefined;
      const buffer = grown ?? this.#pool.tryAllocate(need);
      if (!buffer) return need;
      batch = new ProducerBatch(topic.name, partition, buffer, Date.now(), this.#o.deliveryTimeoutMs);
      this.#accumulator.add(q, batch);
      sizeBefore = batch.sizeInBytes;
      if (!batch.tryAppend(record, timestamp, callback)) throw new Error('kafka-wire bug: a record does not fit the batch sized for it');
      this.#sender.wake();
    } else if (batch.sizeInBytes >= this.#o.batchSize) {
      this.#sender.wake();
    }
    this.#partitions.appended(topic.name, partition, batch.sizeInBytes, batch.sizeInBytes - sizeBefore);
    if (signal) {
      const b = batch;
      const index = b.lastIndex;
      const onAbort = (): void => {
        if (b.abort(index, signal.reason)) this.#recordsDone(1);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      b.onSettled(index, () => signal.removeEventListener('abort', onAbort));
    }
    return true;
  }

  /** Serves waiting sends in order: metadata first, then memory, then the append. */
  async #serveWaiting(): Promise<void> {
    if (this.#servingWaiting) return;
    this.#servingWaiting = true;
    try {
      while (this.#waiting.length > 0) {
        const w = this.#waiting[0]!;
        try {
          if (w.signal?.aborted) throw new AbortedError('send aborted while waiting', { cause: w.signal.reason });
          let topic = await this.#metadata.waitForTopic(w.record.topic, w.deadline, this.#o.retryBackoffMs);
          this.#startMetadataTimer();
          for (let attempt = 0; w.record.partition !== undefined && w.record.partition >= topic.partitions.length && Date.now() < w.deadline; attempt++) {
            await new Promise((r) => setTimeout(r, Math.min(w.deadline - Date.now(), this.#o.retryBackoffMs * 2 ** Math.min(attempt, 4))));
            await this.#metadata.refresh().catch(() => undefined);
            topic = this.#metadata.topic(w.record.topic) ?? topic;
          }
          for (let need = this.#appendNow(topic, w.record, w.timestamp, w.callback, w.signal); need !== true; need = this.#appendNow(topic, w.record, w.timestamp, w.callback, w.signal)) {
            // Wait for the memory, then give it straight back for #appendNow to take in order.
            const buf = await this.#pool.allocate(need, Math.max(0, w.deadline - Date.now()), w.signal);
            this.#pool.release(buf);
          }
          this.#waiting.shift();
          this.#forget(w);
        } catch (err) {
          if (this.#waiting[0] === w) this.#waiting.shift();
          this.#forget(w);
          this.#finish(w.callback, err as Error);
        }
      }
    } finally {
      this.#servingWaiting = false;
      for (const wake of this.#readyWaiters.splice(0)) wake();
    }
  }

  #abortWaiting(w: WaitingSend): void {
    const i = this.#waiting.indexOf(w);
    // The head may be mid-await; its loop notices the abort itself.
    if (i > 0) {
      this.#waiting.splice(i, 1);
      this.#finish(w.callback, new AbortedError('send aborted while waiting', { cause: w.signal?.reason }));
    }
  }

  #forget(w: WaitingSend): void {
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
  }

  /** Fails a record that never reached a batch. */
  #finish(callback: DeliveryCallback | undefined, err: Error): void {
    this.#recordsDone(1);
    if (callback) callback(err, null);
    else debug('record failed: %s', err.message);
  }

  #recordsDone(n: number): void {
    this.#unfinished -= n;
    if (this.#unfinished === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #startMetadataTimer(): void {
    if (this.#metadataTimer || this.#closed || this.#o.metadataMaxAgeMs === 0) return;
    this.#metadataTimer = setInterval(() => {
      this.#metadata.refresh().catch((err: unknown) => debug('periodic metadata refresh failed: %s', (err as Error).message));
    }, this.#o.metadataMaxAgeMs);
    // Metadata upkeep alone must not keep the process alive.
    this.#metadataTimer.unref();
  }

  #nodeFor(nodeId: number): NodeConnection | undefined {
    const info = this.#metadata.brokers.get(nodeId);
    if (!info) return undefined;
    const address = `${info.host}:${info.port}`;
    let node = this.#nodes.get(address);
    if (!node) this.#nodes.set(address, (node = new NodeConnection(info, nodeId)));
    node.nodeId = nodeId;
    return node;
  }

  /** A connection for metadata: any open one, else the bootstrap brokers in turn. */
  async #anyConnection(): Promise<BrokerConnection> {
    for (const n of this.#nodes.values()) if (n.ready) return n.conn!;
    const known = [...this.#metadata.brokers.values()];
    const candidates = known.length > 0 ? known : this.#o.bootstrap;
    let lastError: unknown;
    for (let i = 0; i < candidates.length; i++) {
      const address = candidates[this.#bootstrapIndex++ % candidates.length]!;
      const key = `${address.host}:${address.port}`;
      let node = this.#nodes.get(key);
      if (!node) this.#nodes.set(key, (node = new NodeConnection(address, 'nodeId' in address ? (address.nodeId as number) : -1)));
      try {
        return await node.open(this.#o);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }
}
