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
 *                                            ▲                      │ EndTxn (or the new epoch
 *                                            └──────────────────────┘ after it) failed: abort again
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
  TransactionAbortedError,
  TransactionStateError,
} from '../errors.js';
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
import { ErrorCode } from '../protocol/error-codes.js';
import { backoffDelay, type BackoffSettings } from './backoff.js';
import type { BrokerChannel } from './broker-channel.js';
import { sleep, type Clock } from './clock.js';
import type { ProducerIdentity } from './idempotence.js';
import type { Partitions, PartitionState } from './partition-state.js';
import type { ProducerBatch } from './producer-batch.js';

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

/** Every move the state machine allows; transition() refuses any other. */
export const TRANSITIONS: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  uninitialized: ['initializing', 'fatal-error'],
  initializing: ['ready', 'uninitialized', 'abortable-error', 'fatal-error'],
  ready: ['in-transaction', 'initializing', 'fatal-error'],
  'in-transaction': ['committing', 'aborting', 'abortable-error', 'fatal-error'],
  committing: ['ready', 'abortable-error', 'fatal-error'],
  aborting: ['ready', 'initializing', 'abortable-error', 'fatal-error'],
  'abortable-error': ['aborting', 'fatal-error'],
  'fatal-error': [],
};

const RETRY_SAME_COORDINATOR: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.OPERATION_NOT_ATTEMPTED,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
]);
const FIND_COORDINATOR_AGAIN: ReadonlySet<number> = new Set([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]);
/** A newer epoch of our transactional id exists: this producer is done. */
const FENCED: ReadonlySet<number> = new Set([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH]);
const FATAL: ReadonlySet<number> = new Set([...FENCED, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);

export interface TransactionDeps {
  identity: ProducerIdentity;
  partitions: Partitions;
  /** Any broker, for FindCoordinator. */
  any(): Promise<BrokerChannel>;
  /** A negotiated connection to a broker named by FindCoordinator. */
  connectTo(nodeId: number, host: string, port: number): Promise<BrokerChannel>;
  /** Waits until every record sent so far has its answer. */
  flush(): Promise<void>;
  /** Ends every record not yet in a request with `err`. */
  dropUnsent(err: Error): void;
  /** The sender may have batches waiting for their partitions to be added. */
  wake(): void;
  clock: Clock;
  backoff: BackoffSettings;
  /** How long one coordinator call may keep retrying. */
  timeoutMs: number;
  /** Aborted when the producer closes. */
  signal: AbortSignal;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  /** The next offset the group should read (last processed + 1). */
  offset: bigint | number;
  metadata?: string | null;
}

interface Coordinator {
  nodeId: number;
  host: string;
  port: number;
}

export class TransactionManager {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  #state: TransactionState = 'uninitialized';
  /** Why the state is abortable-error or fatal-error (recorded by transition()). */
  #lastError: Error | undefined;
  readonly #deps: TransactionDeps;
  #coordinator: Coordinator | undefined;
  /** Transactions v2, decided from the coordinator's finalized features at init. */
  #v2 = false;
  /** Partitions of the current transaction (v1: added, or being added); their state says which. */
  readonly #members = new Set<PartitionState>();
  #addLoop: Promise<void> | undefined;
  /** Whether the broker knows of the current transaction (something was sent in it). */
  #started = false;
  /**
   * A sent batch of this transaction failed, so its sequences may have a hole: after the
   * abort the coordinator must hand out a new epoch (KIP-360).
   */
  #needsNewEpoch = false;
  /**
   * A partition leader refused this producer's epoch (KIP-588): mostly the coordinator
   * aborted the transaction after transactionTimeoutMs and moved the epoch on. With
   * transactions v1 an EndTxn at the old epoch would be refused too, so the abort asks
   * for a new epoch instead (InitProducerId with this one: granted after a timeout,
   * refused as PRODUCER_FENCED when another producer took the id over).
   */
  #epochRefused = false;

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

  /**
   * The only way the state changes: checks the move against TRANSITIONS and records the
   * error behind abortable-error and fatal-error.
   */
  #transition(next: TransactionState, cause?: Error): void {
    if (!TRANSITIONS[this.#state].includes(next)) {
      throw new TransactionStateError(`transaction state ${this.#state} cannot go to ${next}`);
    }
    debug('transaction %s: %s -> %s%s', this.transactionalId, this.#state, next, cause ? ` (${cause.message})` : '');
    if (next === 'abortable-error' || next === 'fatal-error') this.#lastError = cause;
    else if (next !== 'aborting') this.#lastError = undefined;
    this.#state = next;
  }

  /** Throws what a call in the wrong state means: fatal, abortable (abort first), or a misuse. */
  #require(allowed: readonly TransactionState[], what: string): void {
    if (allowed.includes(this.#state)) return;
    if (this.#state === 'fatal-error') throw this.#lastError ?? new TransactionStateError(`${what}: the producer is in a fatal error state`);
    if (this.#state === 'abortable-error') {
      throw new TransactionAbortableError(`${what}: the transaction failed (${this.#lastError?.message ?? 'see earlier errors'}); abort it`, { cause: this.#lastError });
    }
    const hint =
      this.#state === 'uninitialized'
        ? ': call initTransactions() first'
        : what === 'initTransactions'
          ? ': transactions are initialized already (once per producer)'
          : this.#state === 'ready'
            ? ': call beginTransaction() first'
            : what === 'beginTransaction'
              ? ': a producer runs one transaction at a time (commit or abort this one first; for transactions at once, one producer each: TransactionalProducerPool)'
              : '';
    throw new TransactionStateError(`${what} is not allowed while the transaction is ${this.#state}${hint}`);
  }

  /** Whether records may be sent now (send() checks this synchronously). */
  assertCanSend(): void {
    this.#require(['in-transaction'], 'send');
  }

  #fatal(err: Error): Error {
    if (this.#state !== 'fatal-error') {
      this.#transition('fatal-error', err);
      this.#deps.dropUnsent(err);
    }
    return err;
  }

  /**
   * A record of the current transaction failed for good (`batch` if it was in one): only
   * abort can follow, and once a batch that had taken sequence numbers failed, with a new
   * epoch: its sequences are a hole (or, if it was written, not).
   */
  recordFailed(err: Error, batch: ProducerBatch | undefined): void {
    if (batch && batch.baseSequence >= 0) this.#needsNewEpoch = true;
    if (err instanceof ProducerFencedError) {
      this.#fatal(err);
      return;
    }
    if (this.#state === 'in-transaction' || this.#state === 'committing') this.#transition('abortable-error', err);
  }

  /**
   * For the sender: what a Produce error code means for a batch of the transaction, as
   * the error to fail it with; undefined when it means nothing special. PRODUCER_FENCED is
   * fatal. INVALID_PRODUCER_EPOCH makes the transaction abortable, as Java does since
   * KIP-588: abortTransaction() then gets a new epoch, or learns that the producer was
   * fenced.
   */
  refusedBatchError(code: number, cause: Error): Error | undefined {
    if (code === ErrorCode.PRODUCER_FENCED) return this.#fenced(cause);
    if (code !== ErrorCode.INVALID_PRODUCER_EPOCH) return undefined;
    this.#epochRefused = true;
    return new TransactionAbortableError(
      `the partition leader refused producer epoch ${this.#deps.identity.epoch}: a newer epoch exists (another producer with the same transactional id started, or the coordinator aborted the transaction after transactionTimeoutMs): abort the transaction; abortTransaction() says which (it fails with ProducerFencedError when this producer was fenced)`,
      { cause },
    );
  }

  #fenced(cause: Error): ProducerFencedError {
    return new ProducerFencedError(
      `producer with transactional id ${JSON.stringify(this.transactionalId)} was fenced: a newer epoch than ${this.#deps.identity.epoch} exists (another producer with the same id started, or the coordinator aborted the transaction after transactionTimeoutMs)`,
      { cause },
    );
  }

  async init(): Promise<void> {
    this.#require(['uninitialized'], 'initTransactions');
    this.#transition('initializing');
    try {
      await this.#initProducerId();
      this.#transition('ready');
    } catch (err) {
      if (this.#state === 'initializing') this.#transition('uninitialized');
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
    this.#needsNewEpoch = false;
    this.#epochRefused = false;
  }

  begin(): void {
    this.#require(['ready'], 'beginTransaction');
    this.#forgetMembers();
    this.#started = false;
    this.#transition('in-transaction');
  }

  #forgetMembers(): void {
    for (const p of this.#members) p.txn = 'none';
    this.#members.clear();
  }

  /**
   * For the sender: may a batch for this partition go now? With transactions v1 the
   * partition must be in the transaction first; asking starts AddPartitionsToTxn.
   */
  maybeAddPartition(partition: PartitionState): boolean {
    if (this.#state === 'fatal-error') return false;
    if (this.#v2) {
      // The Produce request adds the partition itself (KIP-890).
      this.#started = true;
      return true;
    }
    if (partition.txn === 'added') return true;
    if (partition.txn === 'none') {
      partition.txn = 'adding';
      this.#members.add(partition);
      this.#addLoop ??= this.#addPartitions().finally(() => {
        this.#addLoop = undefined;
        this.#deps.wake();
      });
    }
    return false;
  }

  async #addPartitions(): Promise<void> {
    const adding = (): PartitionState[] => [...this.#members].filter((p) => p.txn === 'adding');
    for (let pending = adding(), failures = 1; pending.length > 0; pending = adding()) {
      const byTopic = new Map<string, number[]>();
      for (const p of pending) {
        let list = byTopic.get(p.topic);
        if (!list) byTopic.set(p.topic, (list = []));
        list.push(p.partition);
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
          for (const r of t.resultsByPartition) {
            const p = this.#deps.partitions.find(t.name, r.partitionIndex);
            if (r.partitionErrorCode === ErrorCode.NONE) {
              if (p) p.txn = 'added';
              this.#started = true;
            } else if (RETRY_SAME_COORDINATOR.has(r.partitionErrorCode)) {
              retry = true;
            } else {
              throw this.#classify(new BrokerError(r.partitionErrorCode, { api: 'AddPartitionsToTxn' }));
            }
          }
        }
        if (retry) await sleep(this.#deps.clock, backoffDelay(this.#deps.backoff, failures++), this.#deps.signal);
      } catch (err) {
        for (const p of adding()) p.txn = 'none';
        if (this.#deps.signal.aborted) return;
        this.recordFailed(err as Error, undefined);
        this.#deps.dropUnsent(this.#state === 'fatal-error' ? this.#lastError! : new TransactionAbortableError(`adding partitions to the transaction failed: ${(err as Error).message}`, { cause: err }));
        return;
      }
    }
  }

  async sendOffsets(offsets: readonly OffsetToCommit[], groupId: string): Promise<void> {
    this.#require(['in-transaction'], 'sendOffsetsToTransaction');
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
      // The coordinator knows of the transaction now (v2: TxnOffsetCommit adds the group itself).
      this.#started = true;
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
      if (this.#state !== 'in-transaction') throw err;
      this.recordFailed(err as Error, undefined);
      // recordFailed moved the state on: TypeScript's narrowing above does not know it.
      if ((this.#state as TransactionState) !== 'abortable-error') throw err;
      // As commitTransaction() says it: the caller's next step is to abort.
      throw new TransactionAbortableError(`sendOffsetsToTransaction failed: ${(err as Error).message}; abort the transaction`, { cause: err });
    }
  }

  async commit(): Promise<void> {
    this.#require(['in-transaction'], 'commitTransaction');
    this.#transition('committing');
    await this.#deps.flush();
    // A record that failed while we flushed moved the state on.
    if (this.#state !== 'committing') this.#require(['committing'], 'commitTransaction');
    try {
      await this.#end(true);
      this.#transition('ready');
    } catch (err) {
      if (this.#state === 'committing') {
        this.#transition('abortable-error', err as Error);
        throw new TransactionAbortableError(`commitTransaction failed: ${(err as Error).message}; abort the transaction`, { cause: err });
      }
      throw err;
    }
  }

  async abort(): Promise<void> {
    this.#require(['in-transaction', 'abortable-error'], 'abortTransaction');
    this.#transition('aborting');
    this.#deps.dropUnsent(new TransactionAbortedError('the transaction was aborted before this record was sent'));
    await this.#deps.flush();
    try {
      if (this.#epochRefused && !this.#v2) {
        // EndTxn at the refused epoch would be refused too: the new epoch ends the transaction.
        this.#transition('initializing');
        await this.#initProducerId();
        this.#forgetMembers();
        this.#started = false;
      } else {
        await this.#end(false);
        this.#epochRefused = false;
      }
      if (this.#needsNewEpoch) {
        // Sequences went astray in this transaction: a new epoch from the coordinator (KIP-360).
        this.#transition('initializing');
        await this.#initProducerId();
      }
    } catch (err) {
      // Not fatal: the transaction is still open on the coordinator, and abort may be tried again.
      if (this.#state === 'aborting' || this.#state === 'initializing') this.#transition('abortable-error', err as Error);
      throw err;
    }
    this.#transition('ready');
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
    if (response.producerId >= 0n && response.producerEpoch >= 0) {
      identity.setIdentity(response.producerId, response.producerEpoch);
      this.#needsNewEpoch = false;
    }
    this.#forgetMembers();
    this.#started = false;
  }

  /** Maps a coordinator's error to what it means for us; fatal ones also move the state. */
  #classify(err: BrokerError): Error {
    if (FATAL.has(err.errorCode)) return this.#fatal(FENCED.has(err.errorCode) ? this.#fenced(err) : err);
    if (err.errorCode === ErrorCode.TRANSACTION_ABORTABLE || err.errorCode === ErrorCode.INVALID_TXN_STATE) {
      return new TransactionAbortableError(err.message, { cause: err });
    }
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
    const { clock, signal } = this.#deps;
    const deadline = clock.now() + this.#deps.timeoutMs;
    let groupCoordinator: Coordinator | undefined;
    const forget = (): void => {
      if (opts.groupId) groupCoordinator = undefined;
      else this.#coordinator = undefined;
    };
    for (let failures = 1; ; failures++) {
      try {
        const target = opts.groupId
          ? (groupCoordinator ??= await this.#find(COORDINATOR_GROUP, opts.groupId))
          : (this.#coordinator ??= await this.#find(COORDINATOR_TRANSACTION, this.transactionalId));
        const conn = await this.#deps.connectTo(target.nodeId, target.host, target.port);
        if (!opts.groupId && this.#state === 'initializing') {
          this.#v2 = (conn.features.finalized.get('transaction.version')?.max ?? 0) >= 2 && (conn.versionFor(EndTxn) ?? 0) >= 5;
        }
        const { version, response } = await conn.request(api, body(), api === EndTxn && !this.#v2 ? { maxVersion: 4 } : {});
        const code = opts.errorOf ? opts.errorOf(response) : ((response as { errorCode?: number }).errorCode ?? 0);
        if (code === 0) return response;
        const err = new BrokerError(code, { broker: conn.address, api: `${api.name} v${version}` });
        if (FIND_COORDINATOR_AGAIN.has(code)) forget();
        else if (!RETRY_SAME_COORDINATOR.has(code)) throw this.#classify(err);
        if (clock.now() > deadline) throw err;
      } catch (err) {
        const retriable = err instanceof ConnectionError || (err instanceof KafkaWireError && err.retriable);
        if (!retriable || clock.now() > deadline || signal.aborted) throw err;
        forget();
      }
      await sleep(clock, backoffDelay(this.#deps.backoff, failures), signal);
    }
  }

  async #find(keyType: number, key: string): Promise<Coordinator> {
    const conn = await this.#deps.any();
    const version = conn.requireVersion(FindCoordinator);
    const { response } = await conn.request(FindCoordinator, version >= 4 ? { keyType, coordinatorKeys: [key] } : { keyType, key });
    const c = version >= 4 ? response.coordinators[0] : { ...response, key };
    if (!c) throw new BrokerError(ErrorCode.COORDINATOR_NOT_AVAILABLE, { broker: conn.address, api: `FindCoordinator v${version}` });
    if (c.errorCode !== 0) {
      const err = new BrokerError(c.errorCode, { broker: conn.address, api: `FindCoordinator v${version}`, detail: c.errorMessage });
      if (!err.retriable) throw this.#classify(err);
      throw err;
    }
    return { nodeId: c.nodeId, host: c.host, port: c.port };
  }
}
