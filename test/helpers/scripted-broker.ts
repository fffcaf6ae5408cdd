/**
 * A Kafka cluster in memory, on a FakeClock, as Java's MockClient stands in for
 * NetworkClient: `cluster.dial` is a Dialer whose BrokerChannels reach scripted brokers
 * without sockets or frames. Every request and answer still goes through its API's codec
 * at the negotiated version, so a field that version cannot carry fails here as it would
 * on the wire.
 *
 * The brokers answer ApiVersions, Metadata, InitProducerId, Produce (with Kafka's
 * idempotent sequence rules, scripted-log.ts; uncompressed or gzip batches) and, for
 * transactions v1, FindCoordinator,
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn. Answers come
 * `latencyMs` after the request, in request order per channel, as Kafka's do.
 *
 * A test scripts faults per request (`script`, `onRequest`): an error code, an answer
 * that never comes ('lose-answer': the request is handled, the channel goes deaf and
 * times out at requestTimeoutMs as the real connection does), or a dropped connection;
 * per broker: freeze()/thaw(), refused connections, connects that hang until aborted.
 */
import { gunzipSync } from 'node:zlib';
import { ConnectionError, RequestTimeoutError, UnsupportedVersionError } from '../../src/errors.js';
import type { BrokerFeatures } from '../../src/net/broker-connection.js';
import { decodeBody, encodeBody, type AnyApi, type RequestOf, type ResponseOf } from '../../src/protocol/api.js';
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  ApiVersions,
  EndTxn,
  FindCoordinator,
  InitProducerId,
  Metadata,
  Produce,
  TxnOffsetCommit,
} from '../../src/protocol/apis/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { Reader } from '../../src/protocol/reader.js';
import { CODEC_ID } from '../../src/protocol/compression/codecs.js';
import { stampCrc } from '../../src/protocol/records/batch-header.js';
import { crc32c, decodeRecordBatchesSync, type RecordBatch } from '../../src/protocol/records/index.js';
import { ATTRIBUTES_OFFSET, COMPRESSION_CODEC_MASK, CRC_OFFSET, CRC_START, LENGTH_OFFSET, LOG_OVERHEAD, RECORDS_OFFSET } from '../../src/protocol/records/layout.js';
import { uuidFromBytes, ZERO_UUID } from '../../src/protocol/uuid.js';
import { Writer } from '../../src/protocol/writer.js';
import type { BrokerChannel, ChannelRequestOptions, DialTarget, Dialer } from '../../src/producer/broker-channel.js';
import type { ResolvedOptions } from '../../src/producer/options.js';
import type { TimerHandle } from '../../src/producer/clock.js';
import type { FakeClock } from './fake-clock.js';
import { endTransaction, newTransaction, PartitionLog, type TransactionRecord } from './scripted-log.js';

/** The APIs the scripted brokers serve; anything else is not in their ApiVersions. */
const SERVED: readonly AnyApi[] = [Produce, Metadata, ApiVersions, InitProducerId, FindCoordinator, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit];
const PORT = 9092;
const MIN_INT32 = -2147483648;
/** Kafka's rule for topic names (Topic.validate). */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/** What happens to one request. */
export type Verdict =
  | 'answer'
  /** Handled (a Produce is written), but the answer never comes: the channel times out and closes. */
  | 'lose-answer'
  /** Not handled: the connection drops (the request may never have left). */
  | 'disconnect'
  | ErrorVerdict;

export interface ErrorVerdict {
  /**
   * The code for every partition of a Produce, AddPartitionsToTxn or TxnOffsetCommit and
   * every topic of a Metadata, or for the whole answer of the others. A function picks
   * per partition; undefined there means that partition is handled normally.
   */
  errorCode: number | ((topic: string, partition: number) => number | undefined);
  /** Produce: append the records anyway, as with REQUEST_TIMED_OUT. Default false. */
  written?: boolean;
}

export interface ScriptedRequest {
  /** Order among all requests to the cluster. */
  readonly seq: number;
  readonly at: number;
  readonly nodeId: number;
  readonly channelId: number;
  readonly api: AnyApi;
  readonly version: number;
  /** As the broker decoded it (every field present). */
  readonly body: Record<string, unknown>;
  /** Produce: the partitions written to. */
  readonly partitions: ReadonlyArray<{ topic: string; partition: number }>;
  /** What the script decided, once the request reached the broker. */
  verdict: Verdict | undefined;
}

export interface TopicSpec {
  partitions: number;
  /** Leader node id per partition; default round-robin over the brokers. */
  leaders?: number[];
}

export interface ClusterOptions {
  /** Number of brokers, node ids 1..n. Default 1. */
  brokers?: number;
  topics?: Record<string, number | TopicSpec>;
  /** Default 1 ms. */
  latencyMs?: number;
  /** Narrows the versions served, per API name; null: not served at all. */
  versions?: Partial<Record<string, { min?: number; max?: number } | null>>;
  /** Finalized features the brokers announce (e.g. transaction.version). */
  features?: Record<string, { min: number; max: number }>;
  /** Unknown topics a Metadata request allows to be created get this many partitions. */
  autoCreatePartitions?: number;
  /** Node id of the transaction and group coordinator. Default 1. */
  coordinator?: number;
}

interface TopicState {
  readonly name: string;
  readonly id: string;
  readonly partitions: PartitionState[];
  /** A scripted error Metadata answers for the topic (e.g. LEADER_NOT_AVAILABLE). */
  errorCode: number;
}

interface PartitionState {
  readonly log: PartitionLog;
  leader: number;
  leaderEpoch: number;
}

export interface DialRecord {
  readonly at: number;
  readonly nodeId: number;
  outcome: 'pending' | 'connected' | 'refused' | 'aborted' | 'timed-out' | 'unknown-host';
}

type Body = Record<string, unknown>;
type PartitionError = (topic: string, partition: number) => number | undefined;

export class ScriptedCluster {
  readonly clock: FakeClock;
  readonly brokers: ScriptedBroker[];
  readonly requests: ScriptedRequest[] = [];
  readonly dialLog: DialRecord[] = [];
  readonly channels: ScriptedChannel[] = [];
  /** Protocol misuse the brokers saw (a version they do not serve, a transactional batch outside a transaction). */
  readonly violations: string[] = [];
  readonly transactions = new Map<string, TransactionRecord>();
  /** Committed offsets per group, by `topic-partition`. */
  readonly offsets = new Map<string, Map<string, bigint>>();
  /** Called for every request that reaches a broker with no scripted verdict left for its API. */
  onRequest: ((req: ScriptedRequest) => Verdict | undefined) | undefined;
  coordinator: number;
  readonly features: BrokerFeatures;
  readonly #topics = new Map<string, TopicState>();
  readonly #scripts = new Map<string, Verdict[]>();
  readonly #versions: ReadonlyMap<number, { min: number; max: number }>;
  readonly #autoCreate: number | undefined;
  #nextProducerId = 1000n;
  #nextTopicId = 1;

  constructor(clock: FakeClock, options: ClusterOptions = {}) {
    this.clock = clock;
    const latency = options.latencyMs ?? 1;
    this.brokers = Array.from({ length: options.brokers ?? 1 }, (_, i) => new ScriptedBroker(this, i + 1, latency));
    this.coordinator = options.coordinator ?? 1;
    this.#autoCreate = options.autoCreatePartitions;
    const versions = new Map<number, { min: number; max: number }>();
    for (const api of SERVED) {
      const narrow = options.versions?.[api.name];
      if (narrow === null) continue;
      versions.set(api.key, { min: Math.max(api.minVersion, narrow?.min ?? 0), max: Math.min(api.maxVersion, narrow?.max ?? api.maxVersion) });
    }
    this.#versions = versions;
    const features = Object.entries(options.features ?? {});
    this.features = { finalized: new Map(features), finalizedEpoch: features.length > 0 ? 1n : -1n };
    for (const [name, spec] of Object.entries(options.topics ?? {})) {
      const s = typeof spec === 'number' ? { partitions: spec } : spec;
      this.createTopic(name, s.partitions, s.leaders);
    }
  }

  /** `host:port,...` of every broker, for the producer's bootstrap option. */
  get bootstrap(): string {
    return this.brokers.map((b) => b.address).join(',');
  }

  broker(nodeId: number): ScriptedBroker {
    const b = this.brokers.find((x) => x.nodeId === nodeId);
    if (!b) throw new Error(`no broker ${nodeId}`);
    return b;
  }

  /** The Dialer to hand the producer. */
  readonly dial: Dialer = (target, options, signal) => this.#dial(target, options, signal);

  // ---- scripting -------------------------------------------------------------------------

  /** Verdicts for the next requests of one API, used up in order before onRequest is asked. */
  script(api: AnyApi | string, ...verdicts: Verdict[]): void {
    const name = typeof api === 'string' ? api : api.name;
    const list = this.#scripts.get(name) ?? [];
    list.push(...verdicts);
    this.#scripts.set(name, list);
  }

  /** Verdicts scripted and not yet used, per API name. */
  scriptsLeft(api: AnyApi | string): number {
    return this.#scripts.get(typeof api === 'string' ? api : api.name)?.length ?? 0;
  }

  freeze(): void {
    for (const b of this.brokers) b.freeze();
  }

  thaw(): void {
    for (const b of this.brokers) b.thaw();
  }

  refuseConnections(on: boolean): void {
    for (const b of this.brokers) b.refuseConnections(on);
  }

  hangConnects(on: boolean): void {
    for (const b of this.brokers) b.hangConnects(on);
  }

  createTopic(name: string, partitions: number, leaders?: number[]): void {
    const id = Buffer.alloc(16);
    id.writeUInt32BE(this.#nextTopicId++, 12);
    const n = this.brokers.length;
    this.#topics.set(name, {
      name,
      id: uuidFromBytes(id),
      errorCode: ErrorCode.NONE,
      partitions: Array.from({ length: partitions }, (_, i) => ({ log: new PartitionLog(name, i), leader: leaders?.[i] ?? this.brokers[i % n]!.nodeId, leaderEpoch: 0 })),
    });
  }

  /** Metadata answers `code` for the topic until set back to ErrorCode.NONE. */
  setTopicError(name: string, code: number): void {
    this.#topic(name).errorCode = code;
  }

  /** A new leader for a partition (a newer leader epoch); the old one answers NOT_LEADER_OR_FOLLOWER. */
  moveLeader(topic: string, partition: number, nodeId: number): void {
    const p = this.#partition(topic, partition);
    p.leader = nodeId;
    p.leaderEpoch++;
  }

  /**
   * Another producer took `transactionalId` over (its InitProducerId): the ongoing
   * transaction is aborted at a newer epoch and the old producer is fenced.
   */
  fence(transactionalId: string): void {
    const txn = this.transactions.get(transactionalId);
    if (!txn) throw new Error(`no transaction state for ${transactionalId}`);
    const epoch = txn.epoch + 1;
    if (txn.state === 'Ongoing') endTransaction(txn, false, this.offsets, epoch);
    txn.epoch = epoch;
    txn.state = 'Empty';
  }

  /**
   * The coordinator aborts `transactionalId`'s ongoing transaction because it ran past its
   * timeout. A transactions-v1 coordinator (Kafka's, and this one) does it as a fence: at
   * the next epoch, which InitProducerId naming the old one no longer gets bumped from.
   */
  timeOut(transactionalId: string): void {
    const txn = this.transactions.get(transactionalId);
    if (txn?.state !== 'Ongoing') throw new Error(`${transactionalId} has no ongoing transaction to time out`);
    this.fence(transactionalId);
  }

  // ---- what happened -----------------------------------------------------------------------

  /** Values appended to a partition, in offset order (records of aborted transactions included). */
  log(topic: string, partition: number): Array<string | null> {
    return this.#partition(topic, partition).log.values();
  }

  /** What a read_committed consumer would see: no aborted or still open transaction. */
  committed(topic: string, partition: number): Array<string | null> {
    return this.#partition(topic, partition).log.values(true);
  }

  partitionLog(topic: string, partition: number): PartitionLog {
    return this.#partition(topic, partition).log;
  }

  partitionCount(topic: string): number {
    return this.#topic(topic).partitions.length;
  }

  /** Empties the request log, for a test whose interest starts after its setup. */
  forgetRequests(): void {
    this.requests.length = 0;
  }

  requestsOf(api: AnyApi | string): ScriptedRequest[] {
    const name = typeof api === 'string' ? api : api.name;
    return this.requests.filter((r) => r.api.name === name);
  }

  get dials(): number {
    return this.dialLog.length;
  }

  /** Dials neither connected nor failed yet. */
  pendingDials(): number {
    return this.dialLog.filter((d) => d.outcome === 'pending').length;
  }

  /** Channels not fully closed (one closing gracefully still counts). */
  openChannels(): number {
    return this.channels.filter((c) => !c.isClosed).length;
  }

  // ---- internals, used by brokers and channels -------------------------------------------

  /** The name of the topic with this id, or the id itself when there is none. */
  topicName(id: string): string {
    return [...this.#topics.values()].find((t) => t.id === id)?.name ?? id;
  }

  range(api: AnyApi): { min: number; max: number } | undefined {
    return this.#versions.get(api.key);
  }

  verdictFor(req: ScriptedRequest): Verdict {
    const scripted = this.#scripts.get(req.api.name)?.shift();
    return scripted ?? this.onRequest?.(req) ?? 'answer';
  }

  #topic(name: string): TopicState {
    const t = this.#topics.get(name);
    if (!t) throw new Error(`no topic ${name}`);
    return t;
  }

  #partition(topic: string, partition: number): PartitionState {
    const p = this.#topic(topic).partitions[partition];
    if (!p) throw new Error(`no partition ${topic}-${partition}`);
    return p;
  }

  #dial(target: DialTarget, options: ResolvedOptions, signal: AbortSignal): Promise<BrokerChannel> {
    const broker = this.brokers.find((b) => b.host === target.host && b.port === target.port);
    const record: DialRecord = { at: this.clock.now(), nodeId: broker?.nodeId ?? target.nodeId, outcome: 'pending' };
    this.dialLog.push(record);
    const address = `${target.host}:${target.port}`;
    if (!broker) {
      record.outcome = 'unknown-host';
      return Promise.reject(new ConnectionError(`cannot connect to ${address}: getaddrinfo ENOTFOUND ${target.host}`, { broker: address }));
    }
    return broker.connect(options, signal, record);
  }

  /** Handles one request that reached `broker`; the response body, or null for none. */
  handle(broker: ScriptedBroker, req: ScriptedRequest, errorOf: PartitionError | undefined, written: boolean): Body | null {
    const b = req.body;
    const v = req.version;
    switch (req.api) {
      case ApiVersions:
        return this.#apiVersions();
      case Metadata:
        return this.#metadata(b as RequestOf<typeof Metadata>, v, errorOf);
      case Produce:
        return this.#produce(broker, b as Required<RequestOf<typeof Produce>>, v, errorOf, written);
      case InitProducerId:
        return this.#initProducerId(broker, b as Required<RequestOf<typeof InitProducerId>>, v, errorOf);
      case FindCoordinator:
        return this.#findCoordinator(b as Required<RequestOf<typeof FindCoordinator>>, v, errorOf);
      case AddPartitionsToTxn:
        return this.#addPartitions(broker, b as Required<RequestOf<typeof AddPartitionsToTxn>>, errorOf);
      case AddOffsetsToTxn:
        return this.#addOffsets(broker, b as Required<RequestOf<typeof AddOffsetsToTxn>>, errorOf);
      case TxnOffsetCommit:
        return this.#txnOffsetCommit(broker, b as Required<RequestOf<typeof TxnOffsetCommit>>, errorOf);
      case EndTxn:
        return this.#endTxn(broker, b as Required<RequestOf<typeof EndTxn>>, errorOf);
      default:
        throw new Error(`scripted broker: ${req.api.name} is not served`);
    }
  }

  #apiVersions(): Body {
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: [...this.#versions].map(([apiKey, r]) => ({ apiKey, minVersion: r.min, maxVersion: r.max })),
      throttleTimeMs: 0,
      supportedFeatures: [...this.features.finalized].map(([name, r]) => ({ name, minVersion: r.min, maxVersion: r.max })),
      finalizedFeaturesEpoch: this.features.finalizedEpoch,
      finalizedFeatures: [...this.features.finalized].map(([name, r]) => ({ name, minVersionLevel: r.min, maxVersionLevel: r.max })),
      zkMigrationReady: false,
    };
  }

  #metadata(req: RequestOf<typeof Metadata>, version: number, errorOf: PartitionError | undefined): Body {
    // v0: an empty list means every topic; v1+: null does.
    const all = req.topics === null || req.topics === undefined || (version === 0 && req.topics.length === 0);
    const wanted = all ? [...this.#topics.keys()] : req.topics!.map((t) => t.name ?? [...this.#topics.values()].find((x) => x.id === t.topicId)?.name ?? '');
    const topics = wanted.map((name) => {
      const scripted = errorOf?.(name, -1);
      const t = this.#topics.get(name);
      const unknown = (errorCode: number): Body => ({ errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: MIN_INT32 });
      if (scripted !== undefined) return unknown(scripted);
      if (!LEGAL_TOPIC.test(name) || name === '.' || name === '..') return unknown(ErrorCode.INVALID_TOPIC_EXCEPTION);
      if (!t && this.#autoCreate !== undefined && req.allowAutoTopicCreation !== false) {
        // As Kafka: the request that creates a topic hears it has no leader yet.
        this.createTopic(name, this.#autoCreate);
        return unknown(ErrorCode.LEADER_NOT_AVAILABLE);
      }
      if (!t) return unknown(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (t.errorCode !== ErrorCode.NONE) return unknown(t.errorCode);
      return {
        errorCode: ErrorCode.NONE,
        name,
        topicId: t.id,
        isInternal: false,
        partitions: t.partitions.map((p, i) => ({
          errorCode: ErrorCode.NONE,
          partitionIndex: i,
          leaderId: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: [p.leader],
          isrNodes: [p.leader],
          offlineReplicas: [],
        })),
        topicAuthorizedOperations: MIN_INT32,
      };
    });
    return {
      throttleTimeMs: 0,
      brokers: this.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null })),
      clusterId: 'scripted',
      controllerId: this.brokers[0]!.nodeId,
      topics,
      clusterAuthorizedOperations: MIN_INT32,
      errorCode: ErrorCode.NONE,
    };
  }

  #produce(broker: ScriptedBroker, req: Required<RequestOf<typeof Produce>>, version: number, errorOf: PartitionError | undefined, written: boolean): Body {
    const responses = req.topicData!.map((td) => {
      const topic = version >= 13 ? [...this.#topics.values()].find((t) => t.id === td.topicId) : this.#topics.get(td.name ?? '');
      const name = topic?.name ?? td.name ?? '';
      return {
        name,
        topicId: td.topicId ?? ZERO_UUID,
        partitionResponses: td.partitionData!.map((pd) => {
          const index = pd.index!;
          const answer = (errorCode: number, baseOffset = -1n, leader?: PartitionState): Body => ({
            index,
            errorCode,
            baseOffset,
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: leader ? { leaderId: leader.leader, leaderEpoch: leader.leaderEpoch } : { leaderId: -1, leaderEpoch: -1 },
          });
          if (!topic) return answer(version >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          const p = topic.partitions[index];
          if (!p) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          if (p.leader !== broker.nodeId) return answer(ErrorCode.NOT_LEADER_OR_FOLLOWER, -1n, p);
          const scripted = errorOf?.(topic.name, index);
          if (scripted !== undefined && !written) return answer(scripted);
          const appended = this.#append(p.log, pd.records as Buffer | null, req.transactionalId ?? null);
          return scripted !== undefined ? answer(scripted) : answer(appended.errorCode, appended.baseOffset);
        }),
      };
    });
    const leaders = new Set(responses.flatMap((r) => r.partitionResponses.filter((p) => p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER).map((p) => (p.currentLeader as { leaderId: number }).leaderId)));
    return {
      responses,
      throttleTimeMs: 0,
      nodeEndpoints: this.brokers.filter((b) => leaders.has(b.nodeId)).map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: null })),
    };
  }

  #append(log: PartitionLog, records: Buffer | null, transactionalId: string | null): { errorCode: number; baseOffset: bigint } {
    let batches: RecordBatch[];
    try {
      batches = records ? decodeRecordBatchesSync(inflated(records)).batches : [];
    } catch (err) {
      this.violations.push(`Produce to ${log.topic}-${log.partition}: undecodable records (${(err as Error).message})`);
      return { errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1n };
    }
    if (batches.length !== 1) {
      this.violations.push(`Produce to ${log.topic}-${log.partition}: ${batches.length} batches (a producer sends one)`);
      return { errorCode: ErrorCode.INVALID_RECORD, baseOffset: -1n };
    }
    const batch = batches[0]!;
    let txn: TransactionRecord | undefined;
    if (batch.attributes.transactional) {
      txn = transactionalId === null ? undefined : this.transactions.get(transactionalId);
      if (!txn || txn.producerId !== batch.producerId) {
        this.violations.push(`Produce to ${log.topic}-${log.partition}: a transactional batch without its transactional id`);
        return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING, baseOffset: -1n };
      }
      if (batch.producerEpoch < txn.epoch) return { errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, baseOffset: -1n };
      // Transactions v1: the broker verifies the partition was added first (Kafka 3.6+).
      if (txn.state !== 'Ongoing' || !txn.partitions.has(log)) return { errorCode: ErrorCode.INVALID_TXN_STATE, baseOffset: -1n };
    }
    return log.append(batch, txn?.mark);
  }

  #initProducerId(broker: ScriptedBroker, req: Required<RequestOf<typeof InitProducerId>>, version: number, errorOf: PartitionError | undefined): Body {
    const answer = (errorCode: number, producerId = -1n, producerEpoch = -1): Body => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch });
    const scripted = errorOf?.('', -1);
    if (scripted !== undefined) return answer(scripted);
    const id = req.transactionalId ?? null;
    if (id === null) {
      // KIP-360: an idempotent producer that names its id gets that id at the next epoch.
      if (version >= 3 && req.producerId! >= 0n) return answer(ErrorCode.NONE, req.producerId!, req.producerEpoch! + 1);
      return answer(ErrorCode.NONE, this.#nextProducerId++, 0);
    }
    if (broker.nodeId !== this.coordinator) return answer(ErrorCode.NOT_COORDINATOR);
    let txn = this.transactions.get(id);
    if (!txn) {
      txn = newTransaction(id, this.#nextProducerId++);
      this.transactions.set(id, txn);
      return answer(ErrorCode.NONE, txn.producerId, txn.epoch);
    }
    const named = version >= 3 && req.producerId! >= 0n;
    if (named && (req.producerId !== txn.producerId || req.producerEpoch !== txn.epoch)) {
      return answer(version >= 4 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH);
    }
    const epoch = txn.epoch + 1;
    if (txn.state === 'Ongoing') endTransaction(txn, false, this.offsets, epoch);
    txn.epoch = epoch;
    txn.state = 'Empty';
    return answer(ErrorCode.NONE, txn.producerId, txn.epoch);
  }

  #findCoordinator(req: Required<RequestOf<typeof FindCoordinator>>, version: number, errorOf: PartitionError | undefined): Body {
    const node = this.broker(this.coordinator);
    const errorCode = errorOf?.('', -1) ?? ErrorCode.NONE;
    const found = { nodeId: errorCode ? -1 : node.nodeId, host: errorCode ? '' : node.host, port: errorCode ? -1 : node.port, errorCode, errorMessage: null };
    // v4+ answers per key only: the v0-3 fields must stay at their defaults there.
    if (version >= 4) return { throttleTimeMs: 0, coordinators: (req.coordinatorKeys as string[]).map((key) => ({ key, ...found })) };
    return { throttleTimeMs: 0, ...found, coordinators: [] };
  }

  /** The transaction a coordinator call is about, or the error code that answers it. */
  #transactionFor(broker: ScriptedBroker, id: string, producerId: bigint, epoch: number): TransactionRecord | number {
    if (broker.nodeId !== this.coordinator) return ErrorCode.NOT_COORDINATOR;
    const txn = this.transactions.get(id);
    if (!txn || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (epoch !== txn.epoch) return ErrorCode.PRODUCER_FENCED;
    return txn;
  }

  #addPartitions(broker: ScriptedBroker, req: Required<RequestOf<typeof AddPartitionsToTxn>>, errorOf: PartitionError | undefined): Body {
    const txn = this.#transactionFor(broker, req.v3AndBelowTransactionalId!, req.v3AndBelowProducerId!, req.v3AndBelowProducerEpoch!);
    const results = req.v3AndBelowTopics!.map((t) => ({
      name: t.name!,
      resultsByPartition: t.partitions!.map((partitionIndex) => {
        const p = this.#topics.get(t.name!)?.partitions[partitionIndex];
        const code = typeof txn === 'number' ? txn : (errorOf?.(t.name!, partitionIndex) ?? (p ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        return { partitionIndex, partitionErrorCode: code };
      }),
    }));
    const ok = results.every((t) => t.resultsByPartition.every((p) => p.partitionErrorCode === ErrorCode.NONE));
    // Kafka adds all of a request's partitions or none of them.
    if (ok && typeof txn !== 'number') {
      for (const t of req.v3AndBelowTopics!) for (const i of t.partitions!) txn.partitions.add(this.#partition(t.name!, i).log);
      txn.state = 'Ongoing';
    } else if (!ok) {
      for (const t of results) for (const p of t.resultsByPartition) if (p.partitionErrorCode === ErrorCode.NONE) p.partitionErrorCode = ErrorCode.OPERATION_NOT_ATTEMPTED;
    }
    return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results };
  }

  #addOffsets(broker: ScriptedBroker, req: Required<RequestOf<typeof AddOffsetsToTxn>>, errorOf: PartitionError | undefined): Body {
    const txn = this.#transactionFor(broker, req.transactionalId!, req.producerId!, req.producerEpoch!);
    const errorCode = typeof txn === 'number' ? txn : (errorOf?.('', -1) ?? ErrorCode.NONE);
    if (errorCode === ErrorCode.NONE && typeof txn !== 'number') {
      txn.groups.add(req.groupId!);
      txn.state = 'Ongoing';
    }
    return { throttleTimeMs: 0, errorCode };
  }

  #txnOffsetCommit(broker: ScriptedBroker, req: Required<RequestOf<typeof TxnOffsetCommit>>, errorOf: PartitionError | undefined): Body {
    const txn = this.transactions.get(req.transactionalId!);
    const group = req.groupId!;
    const general =
      broker.nodeId !== this.coordinator
        ? ErrorCode.NOT_COORDINATOR
        : !txn || txn.producerId !== req.producerId
          ? ErrorCode.INVALID_PRODUCER_ID_MAPPING
          : req.producerEpoch !== txn.epoch
            ? ErrorCode.PRODUCER_FENCED
            : !txn.groups.has(group)
              ? ErrorCode.INVALID_TXN_STATE
              : ErrorCode.NONE;
    const topics = req.topics!.map((t) => ({
      name: t.name!,
      partitions: t.partitions!.map((p) => {
        const errorCode = general || (errorOf?.(t.name!, p.partitionIndex!) ?? ErrorCode.NONE);
        if (errorCode === ErrorCode.NONE) {
          let pending = txn!.pendingOffsets.get(group);
          if (!pending) txn!.pendingOffsets.set(group, (pending = new Map()));
          pending.set(`${t.name}-${p.partitionIndex}`, p.committedOffset!);
        }
        return { partitionIndex: p.partitionIndex!, errorCode };
      }),
    }));
    return { throttleTimeMs: 0, topics };
  }

  #endTxn(broker: ScriptedBroker, req: Required<RequestOf<typeof EndTxn>>, errorOf: PartitionError | undefined): Body {
    const answer = (errorCode: number): Body => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
    const txn = this.#transactionFor(broker, req.transactionalId!, req.producerId!, req.producerEpoch!);
    if (typeof txn === 'number') return answer(txn);
    const scripted = errorOf?.('', -1);
    if (scripted !== undefined) return answer(scripted);
    const commit = req.committed!;
    if (txn.state === 'Ongoing') {
      endTransaction(txn, commit, this.offsets);
      return answer(ErrorCode.NONE);
    }
    // A retried EndTxn whose first answer was lost finds its transaction already ended.
    const retried = (commit && txn.state === 'CompleteCommit') || (!commit && txn.state === 'CompleteAbort');
    return answer(retried ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
  }
}

interface FrozenDial {
  options: ResolvedOptions;
  finish: () => void;
}

export class ScriptedBroker {
  readonly cluster: ScriptedCluster;
  readonly nodeId: number;
  readonly host: string;
  readonly port = PORT;
  latencyMs: number;
  #frozen = false;
  #refusing = false;
  #hanging = false;
  /** Requests that reached the broker while frozen, handled in order on thaw. */
  readonly #held: Array<() => void> = [];
  readonly #frozenDials = new Set<FrozenDial>();

  constructor(cluster: ScriptedCluster, nodeId: number, latencyMs: number) {
    this.cluster = cluster;
    this.nodeId = nodeId;
    this.host = `broker-${nodeId}`;
    this.latencyMs = latencyMs;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Takes requests in and answers nothing, connects included, until thaw(). */
  freeze(): void {
    this.#frozen = true;
  }

  /** Handles what came in while frozen, in order; answers go to channels still open. */
  thaw(): void {
    this.#frozen = false;
    for (const run of this.#held.splice(0)) run();
    for (const d of [...this.#frozenDials]) d.finish();
  }

  /** Dials fail with ECONNREFUSED, as to a broker that is down. */
  refuseConnections(on: boolean): void {
    this.#refusing = on;
  }

  /** Dials never finish until their signal aborts (a broker that takes the connection and says nothing, with no timeout). */
  hangConnects(on: boolean): void {
    this.#hanging = on;
  }

  /** Drops every open channel to this broker. */
  disconnectAll(): void {
    for (const c of this.cluster.channels) if (c.broker === this && c.isOpen) c.destroy(new ConnectionError(`connection to ${this.address} closed`, { broker: this.address }));
  }

  /** The request reached the broker: handled now, or held while frozen. */
  receive(run: () => void): void {
    if (this.#frozen) this.#held.push(run);
    else run();
  }

  connect(options: ResolvedOptions, signal: AbortSignal, record: DialRecord): Promise<BrokerChannel> {
    const clock = this.cluster.clock;
    return new Promise<BrokerChannel>((resolve, reject) => {
      const timers: TimerHandle[] = [];
      const end = (outcome: DialRecord['outcome'], result: BrokerChannel | Error): void => {
        if (record.outcome !== 'pending') return;
        record.outcome = outcome;
        for (const t of timers) clock.clearTimeout(t);
        this.#frozenDials.delete(frozen);
        signal.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const frozen: FrozenDial = { options, finish: () => timers.push(clock.setTimeout(() => end('connected', this.#channel(options)), this.latencyMs)) };
      const onAbort = (): void => end('aborted', new ConnectionError(`connecting to ${this.address} was aborted`, { broker: this.address, cause: signal.reason }));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.#hanging) return;
      timers.push(
        clock.setTimeout(() => {
          if (this.#refusing) return end('refused', new ConnectionError(`cannot connect to ${this.address}: connect ECONNREFUSED`, { broker: this.address }));
          if (!this.#frozen) return end('connected', this.#channel(options));
          // Connected, but ApiVersions gets no answer: it times out as any request does.
          this.#frozenDials.add(frozen);
          timers.push(
            clock.setTimeout(
              () => end('timed-out', new RequestTimeoutError(`ApiVersions v${ApiVersions.maxVersion} to ${this.address} got no response within ${options.requestTimeoutMs} ms`, { broker: this.address, api: 'ApiVersions' })),
              options.requestTimeoutMs,
            ),
          );
        }, this.latencyMs),
      );
    });
  }

  #channel(options: ResolvedOptions): ScriptedChannel {
    const channel = new ScriptedChannel(this, this.cluster.channels.length + 1, options);
    this.cluster.channels.push(channel);
    channel.recordHandshake();
    return channel;
  }
}

interface Pending {
  readonly req: ScriptedRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timers: TimerHandle[];
}

export class ScriptedChannel implements BrokerChannel {
  readonly broker: ScriptedBroker;
  readonly id: number;
  readonly address: string;
  readonly features: BrokerFeatures;
  readonly closed: Promise<void>;
  readonly #options: ResolvedOptions;
  readonly #clock: FakeClock;
  readonly #pending: Pending[] = [];
  /** When the last request reaches the broker: later ones must not overtake it. */
  #lastArrival = 0;
  #closedError: Error | undefined;
  #closing = false;
  #isClosed = false;
  /** An answer was lost: the broker's replies on this connection no longer arrive. */
  #deaf = false;
  #onClosed!: () => void;
  /** Arrival timers of requests still on their way; a closed connection drops them. */
  readonly #inTransit = new Set<TimerHandle>();
  #idleWaiters: Array<() => void> = [];

  constructor(broker: ScriptedBroker, id: number, options: ResolvedOptions) {
    this.broker = broker;
    this.id = id;
    this.address = broker.address;
    this.features = broker.cluster.features;
    this.#options = options;
    this.#clock = broker.cluster.clock;
    this.closed = new Promise((resolve) => (this.#onClosed = resolve));
  }

  get isOpen(): boolean {
    return this.#closedError === undefined && !this.#closing;
  }

  /** Fully closed: nothing pending, `closed` resolved. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  get inFlight(): number {
    return this.#pending.length;
  }

  versionFor(api: AnyApi, max = api.maxVersion): number | undefined {
    const theirs = this.broker.cluster.range(api);
    const high = Math.min(max, api.maxVersion, theirs?.max ?? -1);
    return theirs && high >= Math.max(api.minVersion, theirs.min) ? high : undefined;
  }

  requireVersion(api: AnyApi, max = api.maxVersion): number {
    const v = this.versionFor(api, max);
    if (v === undefined) throw new UnsupportedVersionError(`${this.address} does not serve ${api.name} up to v${max}`, { broker: this.address, api: api.name });
    return v;
  }

  async request<A extends AnyApi>(api: A, body: RequestOf<A>, opts: ChannelRequestOptions & { maxVersion?: number } = {}): Promise<{ version: number; response: ResponseOf<A> }> {
    const version = this.requireVersion(api, opts.maxVersion);
    return { version, response: await this.send(api, version, body, opts) };
  }

  /** As the real connection: encoding happens now (a bad body throws here), the answer comes later. */
  send<A extends AnyApi>(api: A, version: number, body: RequestOf<A>, opts: ChannelRequestOptions = {}): Promise<ResponseOf<A>> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    if (this.#closing) return Promise.reject(new ConnectionError(`connection to ${this.address} is closing`, { broker: this.address }));
    const cluster = this.broker.cluster;
    const served = cluster.range(api);
    if (!served || version < served.min || version > served.max) {
      cluster.violations.push(`${api.name} v${version} sent to ${this.address}, which serves ${served ? `v${served.min}-v${served.max}` : 'none'}`);
    }
    const bytes = encodeBody(api, version, body);
    const req = this.#record(api, version, api.requestCodec(version).read(new Reader(bytes)) as Body);
    const expectResponse = opts.expectResponse ?? true;
    return new Promise<ResponseOf<A>>((resolve, reject) => {
      const p: Pending = { req, resolve: resolve as (v: unknown) => void, reject, timers: [] };
      if (expectResponse) {
        this.#pending.push(p);
        const timeoutMs = opts.timeoutMs ?? this.#options.requestTimeoutMs;
        p.timers.push(this.#clock.setTimeout(() => this.#timedOut(p, timeoutMs), timeoutMs));
      }
      const arrival = Math.max(this.#clock.now() + this.broker.latencyMs, this.#lastArrival);
      this.#lastArrival = arrival;
      // acks=0 requests have no answer to wait for: written is done, as on a socket.
      const arrived = this.#clock.setTimeout(() => {
        this.#inTransit.delete(arrived);
        this.broker.receive(() => this.#handle(p, expectResponse));
      }, arrival - this.#clock.now());
      this.#inTransit.add(arrived);
      if (!expectResponse) resolve(undefined as unknown as ResponseOf<A>);
    });
  }

  /** The ApiVersions exchange of the dial, in the request log like any other. */
  recordHandshake(): void {
    const req = this.#record(ApiVersions, ApiVersions.maxVersion, {});
    req.verdict = 'answer';
  }

  close(timeoutMs = this.#options.requestTimeoutMs): Promise<void> {
    if (this.#closedError || this.#closing) return this.closed;
    this.#closing = true;
    const finish = (): void => {
      this.#clock.clearTimeout(timer);
      this.#fail(new ConnectionError(`connection to ${this.address} was closed`, { broker: this.address }));
    };
    const timer = this.#pending.length > 0 ? this.#clock.setTimeout(finish, timeoutMs) : undefined;
    if (this.#pending.length > 0) this.#idleWaiters.push(finish);
    else finish();
    return this.closed;
  }

  destroy(err?: Error): void {
    this.#fail(err ?? new ConnectionError(`connection to ${this.address} was destroyed`, { broker: this.address }));
  }

  #record(api: AnyApi, version: number, body: Body): ScriptedRequest {
    const cluster = this.broker.cluster;
    const partitions =
      api === Produce
        ? (body as Required<RequestOf<typeof Produce>>).topicData!.flatMap((t) => t.partitionData!.map((p) => ({ topic: version >= 13 ? cluster.topicName(t.topicId!) : t.name!, partition: p.index! })))
        : [];
    const req: ScriptedRequest = { seq: cluster.requests.length, at: this.#clock.now(), nodeId: this.broker.nodeId, channelId: this.id, api, version, body, partitions, verdict: undefined };
    cluster.requests.push(req);
    return req;
  }

  #handle(p: Pending, expectResponse: boolean): void {
    const cluster = this.broker.cluster;
    // Past this point the request reached the broker: it is handled even if the
    // connection has gone since (a frozen broker thawing), only the answer is lost.
    const verdict = cluster.verdictFor(p.req);
    p.req.verdict = verdict;
    if (verdict === 'disconnect') {
      this.destroy(new ConnectionError(`connection to ${this.address} closed`, { broker: this.address }));
      return;
    }
    const errorOf = typeof verdict === 'object' ? (typeof verdict.errorCode === 'function' ? verdict.errorCode : () => verdict.errorCode as number) : undefined;
    const response = cluster.handle(this.broker, p.req, errorOf, typeof verdict === 'object' && verdict.written === true);
    if (verdict === 'lose-answer') this.#deaf = true;
    if (!expectResponse || this.#deaf || this.#closedError || response === null) return;
    this.#settle(p);
    const { api, version } = p.req;
    try {
      p.resolve(decodeBody(api, version, encodeResponse(api, version, response)));
    } catch (err) {
      p.reject(err as Error);
    }
  }

  #settle(p: Pending): void {
    for (const t of p.timers) this.#clock.clearTimeout(t);
    const i = this.#pending.indexOf(p);
    if (i >= 0) this.#pending.splice(i, 1);
    if (this.#pending.length === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** As the real connection: the late request fails, and the connection goes (a late answer would break the FIFO). */
  #timedOut(p: Pending, timeoutMs: number): void {
    this.#settle(p);
    const what = `${p.req.api.name} v${p.req.version}`;
    p.reject(new RequestTimeoutError(`${what} to ${this.address} got no response within ${timeoutMs} ms`, { broker: this.address, api: what }));
    this.destroy(new ConnectionError(`connection to ${this.address} closed after a request timed out`, { broker: this.address }));
  }

  #fail(err: Error): void {
    if (this.#closedError) return;
    this.#closedError = err;
    for (const t of this.#inTransit) this.#clock.clearTimeout(t);
    this.#inTransit.clear();
    for (const p of this.#pending.splice(0)) {
      for (const t of p.timers) this.#clock.clearTimeout(t);
      p.reject(err);
    }
    for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#isClosed = true;
    this.#onClosed();
  }
}

function encodeResponse(api: AnyApi, version: number, body: Body): Buffer {
  const codec = api.responseCodec(version);
  const w = new Writer(codec.size(body as never));
  codec.write(w, body as never);
  return w.finish();
}

/**
 * A gzip-compressed batch (the one batch a producer sends) as the same batch uncompressed,
 * so the scripted log can read its records, as a broker inflates them to validate; an
 * uncompressed one as it is. Only gzip: node:zlib inflates it synchronously, and the
 * harness answers on its own schedule. Its CRC is checked first, over the bytes as sent.
 */
function inflated(bytes: Buffer): Buffer {
  if (bytes.length < RECORDS_OFFSET) return bytes;
  const attributes = bytes.readInt16BE(ATTRIBUTES_OFFSET);
  const codec = attributes & COMPRESSION_CODEC_MASK;
  if (codec === CODEC_ID.none) return bytes;
  if (codec !== CODEC_ID.gzip) throw new Error(`the scripted broker inflates gzip batches only, not codec ${codec}`);
  if (crc32c(bytes.subarray(CRC_START)) !== bytes.readUInt32BE(CRC_OFFSET)) throw new Error('CRC mismatch in a compressed batch');
  const records = gunzipSync(bytes.subarray(RECORDS_OFFSET));
  const out = Buffer.alloc(RECORDS_OFFSET + records.length);
  bytes.copy(out, 0, 0, RECORDS_OFFSET);
  records.copy(out, RECORDS_OFFSET);
  out.writeInt32BE(out.length - LOG_OVERHEAD, LENGTH_OFFSET);
  out.writeInt16BE(attributes & ~COMPRESSION_CODEC_MASK, ATTRIBUTES_OFFSET);
  stampCrc(out);
  return out;
}
