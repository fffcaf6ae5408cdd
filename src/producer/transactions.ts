/**
 * Transactions (KIP-98), versions 1 and 2 (KIP-890), as an explicit state machine:
 * an illegal call fails at once with TransactionStateError; an error that spoils only the
 * current transaction leaves it abortable; fencing is fatal.
 *
 *   uninitialized ─init─► ready ─begin─► in-transaction ─commit─► committing ─► ready
 *                                            │    ▲                      │
 *                                  a record  │    └──────── abort ◄──────┤ (error)
 *                                   fails    ▼                           ▼
 *                                     abortable-error ─abort─► aborting ─► ready
 *   any state ─ fenced, unauthorized ─► fatal-error
 *
 * Transactions v1: the producer adds each partition with AddPartitionsToTxn before
 * producing to it (the broker verifies since 3.6), and a group with AddOffsetsToTxn
 * before TxnOffsetCommit; Produce stays at v11 or below. Transactions v2 (brokers with the
 * finalized feature transaction.version >= 2): Produce v12+ and TxnOffsetCommit v5 add
 * implicitly, and EndTxn v5 returns a new epoch after every transaction.
 */
import { debuglog } from 'node:util';
import {
  BrokerError,
  ConnectionError,
  KafkaWireError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionStateError,
} from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import type { AnyApi, RequestOf, ResponseOf } from '../protocol/api.js';
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  COORDINATOR_GROUP,
  COORDINATOR_TRANSACTION,
  EndTxn,
  FindCoordinator,
  InitProducerId,
  Produce,
  TxnOffsetCommit,
} from '../protocol/apis/index.js';
import type { ProducerIdentity } from './idempotence.js';

const debug = debuglog('kafka-wire');

export type TransactionState =
  | 'uninitialized'
  | 'initializing'
  | 'ready'
  | 'in-transaction'
  | 'committing'
  | 'aborting'
  | 'abortable-error'
  | 'fatal-error';

const TRANSITIONS: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  uninitialized: ['initializing', 'fatal-error'],
  initializing: ['ready', 'uninitialized', 'fatal-error'],
  ready: ['in-transaction', 'initializing', 'fatal-error'],
  'in-transaction': ['committing', 'aborting', 'abortable-error', 'fatal-error'],
  committing: ['ready', 'abortable-error', 'fatal-error'],
  aborting: ['ready', 'initializing', 'fatal-error'],
  'abortable-error': ['aborting', 'fatal-error'],
  'fatal-error': [],
};

// Error codes with a meaning for transactions (Kafka's Errors table names them).
const COORDINATOR_LOAD_IN_PROGRESS = 14;
const COORDINATOR_NOT_AVAILABLE = 15;
const NOT_COORDINATOR = 16;
const INVALID_PRODUCER_EPOCH = 47;
const CONCURRENT_TRANSACTIONS = 51;
const OPERATION_NOT_ATTEMPTED = 55;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
const PRODUCER_FENCED = 90;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
const CLUSTER_AUTHORIZATION_FAILED = 31;
const INVALID_TXN_STATE = 48;
const TRANSACTION_ABORTABLE = 120;
const RETRY_SAME_COORDINATOR = new Set([COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, OPERATION_NOT_ATTEMPTED, UNKNOWN_TOPIC_OR_PARTITION]);
const FIND_COORDINATOR_AGAIN = new Set([COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR]);
const FATAL = new Set([PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED]);

export interface TransactionDeps {
  identity: ProducerIdentity;
  /** Any broker, for FindCoordinator. */
  anyConnection(): Promise<BrokerConnection>;
  /** A negotiated connection to a broker named by FindCoordinator. */
  connectTo(nodeId: number, host: string, port: number): Promise<BrokerConnection>;
  /** Waits until every record sent so far has its answer. */
  flush(): Promise<void>;
  /** Fails every record not yet in a request, for abort. */
  dropUnsent(err: Error): void;
  /** The sender may have batches waiting for their partitions to be added. */
  wake(): void;
  retryBackoffMs: number;
  /** How long one coordinator call may keep retrying. */
  timeoutMs: number;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset the group should read (last processed + 1). */
  offset: bigint | number;
  metadata?: string | null;
}

export class TransactionManager {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  #state: TransactionState = 'uninitialized';
  #deps: TransactionDeps;
  #coordinator: { nodeId: number; host: string; port: number } | undefined;
  /** Transactions v2, decided from the coordinator's finalized features at init. */
  #v2 = false;
  /** Partitions added to the current transaction (v1), and those being added. */
  readonly #added = new Set<string>();
  readonly #adding = new Set<string>();
  #addLoop: Promise<void> | undefined;
  /** Whether the broker knows of the current transaction (something was sent in it). */
  #started = false;
  #abortableCause: Error | undefined;
  #fatalCause: Error | undefined;

  constructor(transactionalId: string, transactionTimeoutMs: number, deps: TransactionDeps) {
    this.transactionalId = transactionalId;
    this.transactionTimeoutMs = transactionTimeoutMs;
    this.#deps = deps;
  }

  get state(): TransactionState {
    return this.#state;
  }

  get isV2(): boolean {
    return this.#v2;
  }

  /** The highest Produce version a transactional request may use. */
  get produceMaxVersion(): number {
    return this.#v2 ? Produce.maxVersion : 11;
  }

  #to(next: TransactionState): void {
    if (!TRANSITIONS[this.#state].includes(next)) {
      throw new TransactionStateError(`transaction state ${this.#state} cannot go to ${next}`);
    }
    debug('transaction %s: %s -> %s', this.transactionalId, this.#state, next);
    this.#state = next;
  }

  #require(allowed: readonly TransactionState[], what: string): void {
    if (this.#state === 'fatal-error') throw this.#fatalCause ?? new TransactionStateError(`${what}: the producer is in a fatal error state`);
    if (!allowed.includes(this.#state)) {
      const hint =
        this.#state === 'abortable-error'
          ? `: the transaction failed (${this.#abortableCause?.message ?? 'see earlier errors'}); abort it`
          : this.#state === 'uninitialized'
            ? ': call initTransactions() first'
            : this.#state === 'ready'
              ? ': call beginTransaction() first'
              : '';
      throw new TransactionStateError(`${what} is not allowed while the transaction is ${this.#state}${hint}`);
    }
  }

  /** Whether records may be sent now (send() checks this synchronously). */
  assertCanSend(): void {
    this.#require(['in-transaction'], 'send');
  }

  #fatal(err: Error): Error {
    this.#fatalCause = err;
    this.#state = 'fatal-error';
    this.#deps.dropUnsent(err);
    return err;
  }

  /** A record of the current transaction failed for good: only abort can follow. */
  recordFailed(err: Error): void {
    if (err instanceof ProducerFencedError || (err instanceof BrokerError && err.errorCode === PRODUCER_FENCED)) {
      this.#fatal(err instanceof ProducerFencedError ? err : this.#fenced(err));
      return;
    }
    if (this.#state === 'in-transaction' || this.#state === 'committing') {
      this.#abortableCause = err;
      this.#state = 'abortable-error';
    }
  }

  #fenced(cause: Error): ProducerFencedError {
    return new ProducerFencedError(
      `producer with transactional id ${JSON.stringify(this.transactionalId)} was fenced: another producer with the same id started (epoch newer than ${this.#deps.identity.epoch})`,
      { cause },
    );
  }

  async init(): Promise<void> {
    this.#require(['uninitialized'], 'initTransactions');
    this.#to('initializing');
    try {
      await this.#initProducerId();
      this.#to('ready');
    } catch (err) {
      if (this.#state !== 'fatal-error') this.#state = 'uninitialized';
      throw err;
    }
  }

  async #initProducerId(): Promise<void> {
    const identity = this.#deps.identity;
    const response = await this.#coordinatorCall(InitProducerId, () => ({
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.transactionTimeoutMs,
      // KIP-360: with our current id and epoch the coordinator bumps rather than fences.
      producerId: identity.producerId,
      producerEpoch: identity.epoch,
    }));
    identity.setIdentity(response.producerId, response.producerEpoch);
  }

  begin(): void {
    this.#require(['ready'], 'beginTransaction');
    this.#added.clear();
    this.#started = false;
    this.#abortableCause = undefined;
    this.#to('in-transaction');
  }

  /**
   * For the sender: may a batch for this partition go now? With transactions v1 the
   * partition must be in the transaction first; asking starts adding it.
   */
  canSend(topic: string, partition: number): boolean {
    if (this.#state === 'fatal-error') return false;
    this.#started = true;
    if (this.#v2) return true;
    const key = `${topic}\0${partition}`;
    if (this.#added.has(key)) return true;
    if (!this.#adding.has(key)) {
      this.#adding.add(key);
      this.#addLoop ??= this.#addPartitions().finally(() => {
        this.#addLoop = undefined;
        this.#deps.wake();
      });
    }
    return false;
  }

  async #addPartitions(): Promise<void> {
    while (this.#adding.size > 0) {
      const keys = [...this.#adding];
      const byTopic = new Map<string, number[]>();
      for (const key of keys) {
        const [topic, partition] = key.split('\0') as [string, string];
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(Number(partition));
      }
      const identity = this.#deps.identity;
      try {
        const response = await this.#coordinatorCall(AddPartitionsToTxn, () => ({
          v3AndBelowTransactionalId: this.transactionalId,
          v3AndBelowProducerId: identity.producerId,
          v3AndBelowProducerEpoch: identity.epoch,
          v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        }));
        let retry = false;
        for (const t of response.resultsByTopicV3AndBelow) {
          for (const p of t.resultsByPartition) {
            const key = `${t.name}\0${p.partitionIndex}`;
            if (p.partitionErrorCode === 0) {
              this.#adding.delete(key);
              this.#added.add(key);
            } else if (RETRY_SAME_COORDINATOR.has(p.partitionErrorCode)) {
              retry = true;
            } else {
              throw this.#classify(new BrokerError(p.partitionErrorCode, { api: 'AddPartitionsToTxn' }));
            }
          }
        }
        if (retry) await sleep(this.#deps.retryBackoffMs);
      } catch (err) {
        this.#adding.clear();
        if (this.#state !== 'fatal-error') this.recordFailed(err as Error);
        this.#deps.dropUnsent(err as Error);
        return;
      }
    }
  }

  async sendOffsets(offsets: readonly OffsetToCommit[], groupId: string): Promise<void> {
    this.#require(['in-transaction'], 'sendOffsetsToTransaction');
    this.#started = true;
    const identity = this.#deps.identity;
    try {
      if (!this.#v2) {
        await this.#coordinatorCall(AddOffsetsToTxn, () => ({
          transactionalId: this.transactionalId,
          producerId: identity.producerId,
          producerEpoch: identity.epoch,
          groupId,
        }));
      }
      const byTopic = new Map<string, OffsetToCommit[]>();
      for (const o of offsets) {
        let list = byTopic.get(o.topic);
        if (!list) byTopic.set(o.topic, (list = []));
        list.push(o);
      }
      await this.#coordinatorCall(
        TxnOffsetCommit,
        () => ({
          transactionalId: this.transactionalId,
          groupId,
          producerId: identity.producerId,
          producerEpoch: identity.epoch,
          topics: [...byTopic].map(([name, list]) => ({
            name,
            partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedMetadata: o.metadata ?? null })),
          })),
        }),
        { groupId, errorOf: (r) => r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)).find((c) => c !== 0) ?? 0 },
      );
    } catch (err) {
      if (this.#state === 'in-transaction') this.recordFailed(err as Error);
      throw err;
    }
  }

  async commit(): Promise<void> {
    this.#require(['in-transaction'], 'commitTransaction');
    this.#to('committing');
    await this.#deps.flush();
    // A record that failed while we flushed moved the state to abortable-error.
    if (this.#state !== 'committing') {
      throw this.#fatalCause ?? new TransactionAbortableError(`cannot commit: ${this.#abortableCause?.message ?? 'a record failed'}; abort the transaction`, { cause: this.#abortableCause });
    }
    try {
      await this.#end(true);
      this.#to('ready');
    } catch (err) {
      if (this.#state === 'committing') {
        this.#abortableCause = err as Error;
        this.#state = 'abortable-error';
      }
      throw err;
    }
  }

  async abort(): Promise<void> {
    this.#require(['in-transaction', 'abortable-error'], 'abortTransaction');
    this.#to('aborting');
    this.#deps.dropUnsent(new TransactionAbortableError('the transaction was aborted before this record was sent'));
    await this.#deps.flush();
    await this.#end(false);
    if (this.#deps.identity.bumpRequired) {
      // Sequences went astray in this transaction: a new epoch from the coordinator (KIP-360).
      this.#to('initializing');
      await this.#initProducerId();
    }
    this.#to('ready');
  }

  async #end(committed: boolean): Promise<void> {
    if (!this.#started) return; // the broker never heard of this transaction
    const identity = this.#deps.identity;
    const response = await this.#coordinatorCall(EndTxn, () => ({
      transactionalId: this.transactionalId,
      producerId: identity.producerId,
      producerEpoch: identity.epoch,
      committed,
    }));
    // EndTxn v5 (transactions v2) bumps the epoch at the end of every transaction.
    if (response.producerId >= 0n && response.producerEpoch >= 0) identity.setIdentity(response.producerId, response.producerEpoch);
    this.#added.clear();
    this.#started = false;
  }

  /** Maps a coordinator's error to what it means for us; fatal ones also move the state. */
  #classify(err: BrokerError): Error {
    if (FATAL.has(err.errorCode)) {
      return this.#fatal(err.errorCode === PRODUCER_FENCED || err.errorCode === INVALID_PRODUCER_EPOCH ? this.#fenced(err) : err);
    }
    if (err.errorCode === TRANSACTION_ABORTABLE || err.errorCode === INVALID_TXN_STATE) return new TransactionAbortableError(err.message, { cause: err });
    return err;
  }

  /**
   * Sends a request to the transaction coordinator (or a group's, with `groupId`),
   * finding it first, and retries what the protocol says to retry, within timeoutMs.
   */
  async #coordinatorCall<A extends AnyApi>(
    api: A,
    body: () => RequestOf<A>,
    opts: { groupId?: string; errorOf?: (response: ResponseOf<A>) => number } = {},
  ): Promise<ResponseOf<A>> {
    const deadline = Date.now() + this.#deps.timeoutMs;
    let groupCoordinator: { nodeId: number; host: string; port: number } | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const target = opts.groupId ? (groupCoordinator ??= await this.#find(COORDINATOR_GROUP, opts.groupId)) : (this.#coordinator ??= await this.#find(COORDINATOR_TRANSACTION, this.transactionalId));
        const conn = await this.#deps.connectTo(target.nodeId, target.host, target.port);
        if (!opts.groupId && this.#state === 'initializing') this.#v2 = (conn.features.finalized.get('transaction.version')?.max ?? 0) >= 2 && (conn.versionFor(EndTxn) ?? 0) >= 5;
        const { version, response } = await conn.request(api, body(), api === EndTxn && !this.#v2 ? { maxVersion: 4 } : {});
        const code = opts.errorOf ? opts.errorOf(response) : ((response as { errorCode?: number }).errorCode ?? 0);
        if (code === 0) return response;
        const err = new BrokerError(code, { broker: conn.address, api: `${api.name} v${version}` });
        if (FIND_COORDINATOR_AGAIN.has(code)) {
          if (opts.groupId) groupCoordinator = undefined;
          else this.#coordinator = undefined;
        } else if (!RETRY_SAME_COORDINATOR.has(code)) {
          throw this.#classify(err);
        }
        if (Date.now() > deadline) throw err;
      } catch (err) {
        const retriable = err instanceof ConnectionError || (err instanceof KafkaWireError && err.retriable);
        if (!retriable || Date.now() > deadline) throw err;
        if (opts.groupId) groupCoordinator = undefined;
        else this.#coordinator = undefined;
      }
      await sleep(Math.min(1000, this.#deps.retryBackoffMs * 2 ** Math.min(attempt, 4)));
    }
  }

  async #find(keyType: number, key: string): Promise<{ nodeId: number; host: string; port: number }> {
    const conn = await this.#deps.anyConnection();
    const version = conn.requireVersion(FindCoordinator);
    const { response } = await conn.request(FindCoordinator, version >= 4 ? { keyType, coordinatorKeys: [key] } : { keyType, key });
    const c = version >= 4 ? response.coordinators[0] : { ...response, key };
    if (!c) throw new BrokerError(COORDINATOR_NOT_AVAILABLE, { broker: conn.address, api: `FindCoordinator v${version}` });
    if (c.errorCode !== 0) {
      const err = new BrokerError(c.errorCode, { broker: conn.address, api: `FindCoordinator v${version}`, detail: c.errorMessage });
      if (!err.retriable) throw this.#classify(err);
      throw err;
    }
    return { nodeId: c.nodeId, host: c.host, port: c.port };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
