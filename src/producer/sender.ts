/**
 * The sender: turns ready batches into Produce requests, one per broker at a time per
 * drain, and turns answers into delivered records, retries, splits or failures.
 *
 *   ready partitions ─► grouped by leader ─► drain (exact request size) ─► compress ─► send
 *   response ─► per partition: delivered │ retriable: back off, same batch at the head
 *                                         │ too large: split in two, retry
 *                                         │ otherwise: fail its records
 *
 * It never blocks the event loop: a run does what is possible now and arms one timer for
 * the earliest moment something else becomes possible (a linger ends, a backoff or a
 * throttle expires).
 */
import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { AuthenticationError, BrokerError, DeliveryTimeoutError, KafkaWireError, ProtocolError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { Produce } from '../protocol/apis/produce.js';
import { compress } from '../protocol/compression/index.js';
import { ProduceRequestSize } from '../protocol/produce-size.js';
import { compressBatch } from '../protocol/records/index.js';
import type { ResponseOf } from '../protocol/api.js';
import type { Accumulator, PartitionQueue } from './accumulator.js';
import type { BufferPool } from './buffer-pool.js';
import { addSequence, sameStamp, type ProducerIdentity } from './idempotence.js';
import type { ClusterMetadata } from './metadata.js';
import type { TransactionManager } from './transactions.js';
import type { NodeConnection } from './node-connections.js';
import type { ResolvedOptions } from './options.js';
import { ProducerBatch } from './producer-batch.js';

const debug = debuglog('kafka-wire');
/** diagnostics_channel names, for tracing (what OpenTelemetry instrumentations subscribe to). */
export const REQUEST_CHANNEL = channel('kafka-wire:produce:request');
export const RESPONSE_CHANNEL = channel('kafka-wire:produce:response');
export const BATCH_CHANNEL = channel('kafka-wire:produce:batch');

const ATTRIBUTES_OFFSET = 21;
const CODEC_MASK = 7;
const MESSAGE_TOO_LARGE = 10;
const RECORD_LIST_TOO_LARGE = 18;
const REQUEST_TIMED_OUT = 7;
const NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const DUPLICATE_SEQUENCE_NUMBER = 46;
const INVALID_PRODUCER_EPOCH = 47;
const UNKNOWN_PRODUCER_ID = 59;
/** The broker remembers this many batches per producer and partition (and so dedups retries). */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;

export interface SenderCounters {
  recordsSent: number;
  recordsFailed: number;
  bytesSent: number;
  requestsSent: number;
  retries: number;
  requestsInFlight: number;
}

export interface SenderContext {
  options: ResolvedOptions;
  /** Set for an idempotent producer. */
  identity: ProducerIdentity | undefined;
  /** Set for a transactional producer (which is idempotent too). */
  transactions: TransactionManager | undefined;
  /** Any broker, for InitProducerId. */
  anyConnection(): Promise<BrokerConnection>;
  metadata: ClusterMetadata;
  accumulator: Accumulator;
  pool: BufferPool;
  nodeFor(nodeId: number): NodeConnection | undefined;
  /** Called with the number of records that reached a final state. */
  onRecordsDone(count: number): void;
}

type ProduceResponse = ResponseOf<typeof Produce>;

/** The partition's leader has no state for our producer id and epoch. */
const STATE_REFUSALS = new Set([UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH]);

/** A request's place in its node's write order: wait for `before`; call `written` once the request is queued (or given up). */
interface WriteTurn {
  before: Promise<void> | undefined;
  written: () => void;
}


export class Sender {
  readonly counters: SenderCounters = { recordsSent: 0, recordsFailed: 0, bytesSent: 0, requestsSent: 0, retries: 0, requestsInFlight: 0 };
  readonly #ctx: SenderContext;
  /** Produce requests in flight per broker node. */
  readonly #inFlight = new Map<number, number>();
  /**
   * Per node, the request whose write the next one waits for. Compression is async, so
   * requests could otherwise reach the socket in another order than they were drained
   * in, and a partition's batches out of sequence order.
   */
  readonly #lastWrite = new Map<number, Promise<void>>();
  /** Where the next drain for a node starts, so every partition gets its turn under maxRequestSize. */
  readonly #drainStart = new Map<number, number>();
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  /** >0 while flush() or close() wants everything sent without lingering. */
  flushing = 0;
  #stopped = false;
  /** Batches of one partition that may be in flight at once. */
  readonly #perPartition: number;

  constructor(ctx: SenderContext) {
    this.#ctx = ctx;
    this.#perPartition = ctx.identity ? Math.min(ctx.options.maxInFlight, MAX_IDEMPOTENT_IN_FLIGHT) : 1;
  }

  /** Asks for a run soon; many wakes in one tick make one run. */
  wake(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  /** Stops all scheduling; pending timers are cleared. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get inFlightRequests(): number {
    return this.counters.requestsInFlight;
  }

  inFlightFor(nodeId: number): number {
    return this.#inFlight.get(nodeId) ?? 0;
  }

  #arm(at: number): void {
    if (this.#stopped || !Number.isFinite(at)) return;
    if (this.#timer && at >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#run();
    }, Math.max(0, at - Date.now()));
  }

  #run(): void {
    if (this.#stopped) return;
    const { accumulator, metadata, options } = this.#ctx;
    const now = Date.now();
    let next = Infinity;
    let needMetadata = metadata.stale;
    const byNode = new Map<number, PartitionQueue[]>();
    const sendable = this.#identityReady();

    for (const q of accumulator.all()) {
      if (q.batches.length === 0) continue;
      this.#expire(q, now);
      if (!sendable) continue;
      const at = this.#readyAt(q, now);
      if (at > now) {
        next = Math.min(next, at);
        continue;
      }
      const leader = metadata.topic(q.topic)?.partitions[q.partition]?.leader ?? -1;
      if (leader < 0) {
        needMetadata = true;
        next = Math.min(next, now + options.retryBackoffMs);
        continue;
      }
      let list = byNode.get(leader);
      if (!list) byNode.set(leader, (list = []));
      list.push(q);
    }

    for (const [nodeId, queues] of byNode) {
      const node = this.#ctx.nodeFor(nodeId);
      if (!node) {
        needMetadata = true;
        continue;
      }
      if (node.throttledUntil > now) {
        next = Math.min(next, node.throttledUntil);
        continue;
      }
      if (!node.ready) {
        if (node.opening) continue;
        if (node.reconnectAt > now) {
          next = Math.min(next, node.reconnectAt);
          continue;
        }
        node.open(options).then(
          () => this.wake(),
          (err: unknown) => {
            debug('connecting to node %d (%s) failed: %s', nodeId, node.address, (err as Error).message);
            // Wrong credentials or certificates: the records fail now rather than at their deadline.
            if (err instanceof AuthenticationError) {
              for (const q of queues) for (const b of [...q.batches]) if (!b.inFlight) this.#finalFailure(q, b, err);
            }
            metadata.invalidate();
            this.wake();
          },
        );
        continue;
      }
      // One request after another while requests may be in flight and batches are ready:
      // pipelining does not wait for the next wake-up.
      let ready = queues;
      while (ready.length > 0 && this.inFlightFor(nodeId) < options.maxInFlight && this.#drain(node, ready)) {
        ready = ready.filter((q) => {
          const at = this.#readyAt(q, now);
          next = Math.min(next, at);
          return at <= now;
        });
      }
    }

    if (needMetadata) {
      metadata.invalidate();
      metadata.refresh().then(
        () => this.wake(),
        (err: unknown) => {
          debug('metadata refresh failed: %s', (err as Error).message);
          this.#arm(Date.now() + options.retryBackoffMs);
        },
      );
    }
    this.#arm(next);
  }

  /** Whether batches may be drained now: an idempotent producer first needs its id. */
  #identityReady(): boolean {
    const identity = this.#ctx.identity;
    if (!identity) return true;
    // A transactional producer gets its id from initTransactions(), and a new epoch only
    // through the coordinator (after an abort), never by a local bump.
    if (this.#ctx.transactions) return identity.producerId >= 0n;
    if (identity.ready) return true;
    if (!identity.initializing) {
      const { options } = this.#ctx;
      identity.init(() => this.#ctx.anyConnection(), options.retryBackoffMs, Date.now() + options.deliveryTimeoutMs).then(
        () => this.wake(),
        (err: unknown) => {
          debug('InitProducerId failed: %s', (err as Error).message);
          if (err instanceof KafkaWireError && !err.retriable) {
            for (const q of this.#ctx.accumulator.all()) for (const b of [...q.batches]) this.#finalFailure(q, b, err);
          }
          this.#arm(Date.now() + options.retryBackoffMs);
        },
      );
    }
    return false;
  }

  /**
   * When the partition's next batch may go: now (or earlier), a later time, or Infinity
   * when only an event (an answer, a new record) can make it so.
   */
  #readyAt(q: PartitionQueue, now: number): number {
    const { accumulator, transactions } = this.#ctx;
    if (q.batches.length === 0) return Infinity;
    const r = accumulator.readiness(q, now, this.flushing > 0, this.#perPartitionFor(q, now));
    if (!r.ready) return Math.min(r.at, accumulator.nextToSend(q)?.deadline ?? Infinity);
    if (transactions && !transactions.canSend(q.topic, q.partition)) return Infinity;
    if (!this.#sequenceAllows(q)) return Infinity;
    return now;
  }

  /** How many batches of the partition may be in flight: one until its leader is known to hold our producer state. */
  #perPartitionFor(q: PartitionQueue, now: number): number {
    const identity = this.#ctx.identity;
    return identity && !identity.isKnownTo(q.key, now) ? 1 : this.#perPartition;
  }

  /**
   * A partition whose batches still carry an older epoch sends no batch under the new
   * one until they are answered: the broker would take the new epoch's sequence 0 and
   * then refuse the old epoch's retries. (The answers wake the sender.)
   */
  #sequenceAllows(q: PartitionQueue): boolean {
    const identity = this.#ctx.identity;
    if (!identity) return true;
    const next = this.#ctx.accumulator.nextToSend(q);
    if (!next || next.baseSequence >= 0 || identity.isCurrent(q.key)) return true;
    return !q.batches.some((b) => b.baseSequence >= 0);
  }

  /** Fails batches that waited past the delivery timeout without being in a request. */
  #expire(q: PartitionQueue, now: number): void {
    for (let i = 0; i < q.batches.length; i++) {
      const b = q.batches[i]!;
      if (b.inFlight) continue;
      // Batches queue in creation order: once one is in time, the rest are too.
      if (b.deadline > now) return;
      this.#finalFailure(
        q,
        b,
        new DeliveryTimeoutError(
          `${b.recordCount} record(s) for ${b.topic}-${b.partition} not delivered within deliveryTimeoutMs (${this.#ctx.options.deliveryTimeoutMs} ms)${b.attempts ? ` after ${b.attempts} attempt(s)` : ''}`,
        ),
      );
      i--;
    }
  }

  /** Sends one request with the next batch of as many ready partitions as fit; false when it sent none. */
  #drain(node: NodeConnection, ready: PartitionQueue[]): boolean {
    const { options, metadata } = this.#ctx;
    const conn = node.conn!;
    const allHaveIds = ready.every((q) => metadata.topicId(q.topic) !== undefined);
    let version: number;
    try {
      version = conn.requireVersion(Produce, Math.min(allHaveIds ? Produce.maxVersion : 12, this.#ctx.transactions?.produceMaxVersion ?? Produce.maxVersion));
    } catch (err) {
      for (const q of ready) for (const b of [...q.batches]) this.#finalFailure(q, b, err as Error);
      return false;
    }
    const size = new ProduceRequestSize(version, options.clientId, this.#ctx.transactions?.transactionalId ?? null);
    const start = (this.#drainStart.get(node.nodeId) ?? 0) % ready.length;
    this.#drainStart.set(node.nodeId, start + 1);
    const chosen: Array<[PartitionQueue, ProducerBatch]> = [];
    for (let k = 0; k < ready.length; k++) {
      const q = ready[(start + k) % ready.length]!;
      const batch = this.#ctx.accumulator.nextToSend(q)!;
      if (batch.allAborted) {
        this.#ctx.accumulator.remove(q, batch);
        this.#release(batch);
        continue;
      }
      // Exact for an uncompressed batch; a compressed one is checked again once compressed.
      const length = batch.sizeInBytes;
      const grow = size.growth(q.topic, length);
      if (chosen.length > 0 && size.bytes + grow > options.maxRequestSize) break;
      size.add(q.topic, length);
      const identity = this.#ctx.identity;
      if (identity && batch.baseSequence < 0) {
        const sequence = identity.takeSequence(q.key, batch.recordCount);
        batch.stamp(identity.producerId, identity.epoch, sequence, this.#ctx.transactions !== undefined);
      } else {
        batch.finish();
      }
      q.inFlight++;
      batch.inFlight = true;
      chosen.push([q, batch]);
    }
    if (chosen.length === 0) return false;
    this.#inFlight.set(node.nodeId, this.inFlightFor(node.nodeId) + 1);
    this.counters.requestsInFlight++;
    void this.#send(node, version, chosen, this.#writeTurn(node.nodeId));
    return true;
  }

  #writeTurn(nodeId: number): WriteTurn {
    const before = this.#lastWrite.get(nodeId);
    let written!: () => void;
    const mine = new Promise<void>((resolve) => (written = resolve));
    this.#lastWrite.set(nodeId, mine);
    void mine.then(() => {
      if (this.#lastWrite.get(nodeId) === mine) this.#lastWrite.delete(nodeId);
    });
    return { before, written };
  }

  async #send(
    node: NodeConnection,
    version: number,
    chosen: Array<[PartitionQueue, ProducerBatch]>,
    turn: WriteTurn,
  ): Promise<void> {
    try {
      await this.#sendInTurn(node, version, chosen, turn);
    } finally {
      // Normally called as soon as the request is queued; whatever happened, the next request must not wait forever.
      turn.written();
    }
  }

  async #sendInTurn(
    node: NodeConnection,
    version: number,
    chosen: Array<[PartitionQueue, ProducerBatch]>,
    turn: WriteTurn,
  ): Promise<void> {
    const { options, metadata } = this.#ctx;
    try {
      if (options.codecId !== 0) {
        for (const [, b] of chosen) {
          // Compressed once; a retry resends the same compressed bytes.
          if (b.bytes && (b.bytes.readInt16BE(ATTRIBUTES_OFFSET) & CODEC_MASK) === 0) b.bytes = await compressBatch(b.bytes, options.codecId, compress);
        }
      }
      if (turn.before) await turn.before;
    } catch (err) {
      turn.written();
      this.#requestDone(node);
      for (const [q, b] of chosen) this.#finalFailure(q, b, err as Error);
      this.wake();
      return;
    }
    if (options.codecId !== 0) this.#fitRequest(version, chosen);

    const topics = new Map<string, Array<{ index: number; records: Buffer }>>();
    let bytes = 0;
    for (const [q, b] of chosen) {
      let list = topics.get(q.topic);
      if (!list) topics.set(q.topic, (list = []));
      list.push({ index: q.partition, records: b.bytes! });
      bytes += b.bytes!.length;
      b.attempts++;
    }
    const body = {
      transactionalId: this.#ctx.transactions?.transactionalId ?? null,
      acks: options.acks,
      timeoutMs: options.requestTimeoutMs,
      topicData: [...topics].map(([name, partitionData]) => ({ name, topicId: metadata.topicId(name), partitionData })),
    };
    const conn = node.conn;
    if (!conn || !conn.connection.isOpen) {
      turn.written();
      this.#requestFailed(node, chosen, new ProtocolError(`connection to ${node.address} closed before the request was sent`));
      return;
    }
    this.counters.requestsSent++;
    this.counters.bytesSent += bytes;
    if (REQUEST_CHANNEL.hasSubscribers) {
      REQUEST_CHANNEL.publish({ broker: node.address, nodeId: node.nodeId, version, acks: options.acks, partitions: chosen.length, bytes });
    }
    try {
      let answer: Promise<ProduceResponse>;
      try {
        answer = conn.connection.send(Produce, version, body, { expectResponse: options.acks !== 0 });
      } finally {
        // In the connection's queue now: the next request may follow.
        turn.written();
      }
      const response = await answer;
      this.#requestDone(node);
      if (options.acks === 0) for (const [q, b] of chosen) this.#delivered(q, b, -1n, -1n);
      else this.#onResponse(node, version, chosen, response);
    } catch (err) {
      this.#requestFailed(node, chosen, err as Error);
    }
    this.wake();
  }

  /**
   * Incompressible data can come out of a codec a few bytes bigger than it went in: if
   * that tips the request over maxRequestSize, the last batches wait for the next one.
   * Each is the next of its partition to go, so sequences stay in order.
   */
  #fitRequest(version: number, chosen: Array<[PartitionQueue, ProducerBatch]>): void {
    const fits = (): boolean => {
      const size = new ProduceRequestSize(version, this.#ctx.options.clientId, this.#ctx.transactions?.transactionalId ?? null);
      for (const [q, b] of chosen) size.add(q.topic, b.sizeInBytes);
      return size.bytes <= this.#ctx.options.maxRequestSize;
    };
    while (chosen.length > 1 && !fits()) this.#landed(...chosen.pop()!);
  }

  #requestDone(node: NodeConnection): void {
    this.#inFlight.set(node.nodeId, this.inFlightFor(node.nodeId) - 1);
    this.counters.requestsInFlight--;
  }

  #onResponse(node: NodeConnection, version: number, chosen: Array<[PartitionQueue, ProducerBatch]>, response: ProduceResponse): void {
    const { metadata } = this.#ctx;
    if (node.noteThrottle(Produce, version, response.throttleTimeMs)) {
      debug('broker %s throttled us for %d ms', node.address, response.throttleTimeMs);
    }
    if (RESPONSE_CHANNEL.hasSubscribers) {
      RESPONSE_CHANNEL.publish({ broker: node.address, nodeId: node.nodeId, version, throttleTimeMs: response.throttleTimeMs });
    }
    const endpoints = new Map(response.nodeEndpoints.map((e) => [e.nodeId, { nodeId: e.nodeId, host: e.host, port: e.port }]));
    const byKey = new Map(chosen.map(([q, b]) => [q.key, [q, b] as const]));
    const now = Date.now();
    const idToName = new Map(chosen.map(([q]) => [metadata.topicId(q.topic), q.topic]));
    for (const t of response.responses) {
      const topic = version >= 13 ? idToName.get(t.topicId) : t.name;
      for (const p of t.partitionResponses) {
        const key = `${topic}\0${p.index}`;
        const entry = byKey.get(key);
        if (!entry) continue;
        byKey.delete(key);
        const [q, b] = entry;
        if ((p.errorCode === 0 || p.errorCode === DUPLICATE_SEQUENCE_NUMBER) && b.baseSequence >= 0) {
          this.#ctx.identity?.noteAcknowledged(q.key, b.producerId, now);
        }
        if (p.errorCode === 0) {
          this.#delivered(q, b, p.baseOffset, p.logAppendTimeMs);
          continue;
        }
        const leader = p.currentLeader;
        if (leader.leaderId >= 0) metadata.noteLeader(q.topic, q.partition, leader.leaderId, leader.leaderEpoch, endpoints.get(leader.leaderId));
        const detail = [p.errorMessage, ...p.recordErrors.map((e) => `record ${e.batchIndex}: ${e.batchIndexErrorMessage}`)].filter(Boolean).join('; ');
        this.#partitionError(q, b, new BrokerError(p.errorCode, { broker: node.address, api: `Produce v${version}`, detail: detail || null }));
      }
    }
    for (const [q, b] of byKey.values()) {
      this.#partitionError(q, b, new ProtocolError(`Produce v${version} response from ${node.address} did not answer for ${q.topic}-${q.partition}`));
    }
  }

  /** The batch's request is over, one way or another. */
  #landed(q: PartitionQueue, b: ProducerBatch): void {
    if (!b.inFlight) return;
    b.inFlight = false;
    q.inFlight--;
  }

  #delivered(q: PartitionQueue, b: ProducerBatch, baseOffset: bigint, logAppendTime: bigint): void {
    this.#landed(q, b);
    if (b.done) return; // failed by close() while its request was out
    if (b.baseSequence >= 0) this.#earlierAreWritten(q, b);
    this.#ctx.accumulator.remove(q, b);
    const n = b.recordCount;
    this.counters.recordsSent += n;
    if (BATCH_CHANNEL.hasSubscribers) {
      BATCH_CHANNEL.publish({ topic: q.topic, partition: q.partition, records: n, bytes: b.sizeInBytes, attempts: b.attempts, baseOffset });
    }
    b.complete(baseOffset, logAppendTime);
    this.#release(b);
    this.#ctx.onRecordsDone(n);
  }

  #partitionError(q: PartitionQueue, b: ProducerBatch, err: BrokerError | ProtocolError): void {
    const { metadata, options, accumulator } = this.#ctx;
    this.#landed(q, b);
    if (b.done) return;
    const now = Date.now();
    const code = err instanceof BrokerError ? err.errorCode : -1;
    if (err instanceof BrokerError && err.refreshMetadata) metadata.invalidate();
    let retriable = err.retriable;
    if (b.written || code === DUPLICATE_SEQUENCE_NUMBER) {
      // In the log already (an earlier attempt whose answer was lost): success, offset unknown.
      this.#delivered(q, b, -1n, -1n);
      return;
    }
    if (b.overtaken) return this.#finalFailure(q, b, b.overtaken);
    // Written by the leader, not (yet) by enough replicas: it may well be in the log.
    if (code === REQUEST_TIMED_OUT || code === NOT_ENOUGH_REPLICAS_AFTER_APPEND) b.maybeWritten = true;
    const transactional = this.#ctx.transactions !== undefined;
    if (b.baseSequence >= 0 && (code === OUT_OF_ORDER_SEQUENCE_NUMBER || (!transactional && STATE_REFUSALS.has(code)))) {
      // Expected after an earlier batch of this partition failed or is unresolved: its
      // retry comes first. Otherwise it is this batch's own trouble.
      if (this.#oldestUnresolved(q) === b) return this.#refused(q, b, err);
      retriable = true;
    } else if (transactional && STATE_REFUSALS.has(code)) {
      // The broker does not know this epoch: only the coordinator can help, after an abort.
      retriable = false;
    }
    if ((code === MESSAGE_TOO_LARGE || code === RECORD_LIST_TOO_LARGE) && b.recordCount > 1) {
      // The broker's limit for this topic is below our batch: halve it and try again.
      const halves = b.split(now, options.deliveryTimeoutMs);
      if (b.baseSequence >= 0) {
        // The halves take over the refused batch's sequences, so every later batch keeps its own.
        halves[0].stamp(b.producerId, b.producerEpoch, b.baseSequence, transactional);
        halves[1].stamp(b.producerId, b.producerEpoch, addSequence(b.baseSequence, halves[0].recordCount), transactional);
      }
      const i = q.batches.indexOf(b);
      q.batches.splice(i, 1, ...halves);
      accumulator.batchCount++;
      this.#release(b);
      this.counters.retries++;
      debug('%s-%d: batch of %d records too large, split', q.topic, q.partition, b.recordCount);
      return;
    }
    if (retriable && now < b.deadline) {
      b.retryAt = now + this.#backoff(b.attempts);
      this.counters.retries++;
      debug('%s-%d: %s, retry %d in %d ms', q.topic, q.partition, err.message, b.attempts, b.retryAt - now);
      return;
    }
    this.#finalFailure(q, b, err);
  }

  #requestFailed(node: NodeConnection, chosen: Array<[PartitionQueue, ProducerBatch]>, err: Error): void {
    this.#requestDone(node);
    this.#ctx.metadata.invalidate();
    debug('produce request to %s failed: %s', node.address, err.message);
    const retriable = !(err instanceof KafkaWireError) || err.retriable;
    const now = Date.now();
    for (const [q, b] of chosen) {
      this.#landed(q, b);
      if (b.done) continue;
      if (b.written) {
        this.#delivered(q, b, -1n, -1n);
        continue;
      }
      if (b.overtaken) {
        this.#finalFailure(q, b, b.overtaken);
        continue;
      }
      b.maybeWritten = true;
      if (retriable && now < b.deadline) {
        b.retryAt = now + this.#backoff(b.attempts);
        this.counters.retries++;
      } else {
        this.#finalFailure(q, b, err);
      }
    }
  }

  #finalFailure(q: PartitionQueue, b: ProducerBatch, err: Error): void {
    this.#landed(q, b);
    if (b.done) return;
    // A sent batch given up may or may not be in the log. An idempotent producer needs
    // nothing more: the next batch's answer tells (taken, or refused as out of sequence
    // and then re-sequenced). A transaction cannot commit around the hole, and after
    // its abort the coordinator must hand out a new epoch.
    if (this.#ctx.transactions && b.attempts > 0 && b.baseSequence >= 0) this.#ctx.identity!.bumpRequired = true;
    this.#ctx.accumulator.remove(q, b);
    const n = b.recordCount;
    this.counters.recordsFailed += n;
    this.#ctx.transactions?.recordFailed(err);
    b.fail(err);
    this.#release(b);
    this.#ctx.onRecordsDone(n);
  }

  /** The first batch of the partition whose fate no later answer is waited for. */
  #oldestUnresolved(q: PartitionQueue): ProducerBatch | undefined {
    for (const b of q.batches) if (!b.refused) return b;
    return undefined;
  }

  /**
   * `b` was taken (or found a duplicate) under its stamp. A leader that holds our
   * producer state takes a sequence only right after the one before it, so every earlier
   * batch of that stamp is in the log too, whatever its own answer said or will say.
   * (The sender keeps one batch in flight to a leader not yet known to hold our state,
   * which may take any sequence.) An earlier batch the broker answered "not written"
   * every time cannot be in the log, though: then the leader had lost our state, and
   * that batch fails rather than being reported written or written out of order.
   */
  #earlierAreWritten(q: PartitionQueue, b: ProducerBatch): void {
    // Usually `b` is the oldest batch of its partition, and there is nothing to do.
    const i = q.batches.indexOf(b);
    if (i <= 0) return;
    for (const x of q.batches.slice(0, i)) {
      if (x.done || x.baseSequence < 0 || !sameStamp(x, b)) continue;
      if (x.maybeWritten) {
        if (x.inFlight) x.written = true;
        else this.#delivered(q, x, -1n, -1n);
        continue;
      }
      const overtaken = new BrokerError(OUT_OF_ORDER_SEQUENCE_NUMBER, {
        api: 'Produce',
        detail: `${x.topic}-${x.partition}: the leader wrote a later batch (sequence ${b.baseSequence}) without this one (sequence ${x.baseSequence}), which it had refused: it lost this producer's state, and these records can no longer be written in order`,
      });
      if (x.inFlight) x.overtaken = overtaken;
      else this.#finalFailure(q, x, overtaken);
    }
  }

  /**
   * The oldest unresolved batch was refused as out of sequence (or for an unknown
   * producer or a stale epoch). That is not proof that it is missing: after a restart a
   * broker remembers only the last batch it wrote, so retries of the ones before it are
   * refused although they are in the log. A later batch of the same stamp decides: if
   * the broker takes one (or knows it as a duplicate), everything before it is written
   * (see #earlierAreWritten). Only when every batch sent after it is refused as well is
   * the gap real; then none of them is in the log, and they are sent again with new
   * sequences: an idempotent producer restarts the partition's sequences under a new
   * epoch (KIP-360), a transaction fails them and must abort. Java bumps at once and
   * so writes such batches twice (as does librdkafka, confluentinc/librdkafka#4953).
   */
  #refused(q: PartitionQueue, b: ProducerBatch, err: BrokerError | ProtocolError): void {
    b.refused = true;
    const later = q.batches.slice(q.batches.indexOf(b) + 1);
    if (later.some((x) => x.attempts > 0 && sameStamp(x, b))) {
      debug('%s-%d: sequence %d refused (%s); a later batch will tell whether it is written', q.topic, q.partition, b.baseSequence, err.message);
      return;
    }
    const refused = q.batches.filter((x) => x.refused);
    const identity = this.#ctx.identity!;
    if (this.#ctx.transactions) {
      for (const x of refused) this.#finalFailure(q, x, err);
      identity.bumpRequired = true;
      return;
    }
    debug('%s-%d: %d batch(es) from sequence %d are not in the log (%s): new sequences', q.topic, q.partition, refused.length, refused[0]!.baseSequence, err.message);
    identity.restartSequences(q.key, b);
    const retryAt = Date.now() + this.#backoff(b.attempts);
    for (const x of q.batches) {
      if (x.baseSequence < 0) break;
      x.unstamp();
      x.retryAt = Math.max(x.retryAt, retryAt);
    }
    this.counters.retries += refused.length;
  }

  #release(b: ProducerBatch): void {
    if (b.pooled) this.#ctx.pool.release(b.buffer);
  }

  /** Exponential backoff with jitter, as Java's retry.backoff.ms/retry.backoff.max.ms (KIP-580). */
  #backoff(attempts: number): number {
    const { retryBackoffMs, retryBackoffMaxMs } = this.#ctx.options;
    const exp = Math.min(retryBackoffMaxMs, retryBackoffMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(exp * (0.8 + Math.random() * 0.4));
  }
}
