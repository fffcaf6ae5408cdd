/**
 * Transactions (KIP-98), in both protocols where offered: v1 (AddPartitionsToTxn before
 * producing, AddOffsetsToTxn before TxnOffsetCommit, Produce <= v11, EndTxn <= v4) and
 * v2 (KIP-890: partitions and groups added implicitly by Produce v12+ and
 * TxnOffsetCommit v5, EndTxn v5). Commit, abort, read_committed isolation while a
 * transaction is open, fencing by a newer producer, and offsets sent to a transaction
 * (read back with OffsetFetch from the group's coordinator once committed).
 */
import type { BrokerConnection } from '../../net/broker-connection.js';
import type { AnyApi, RequestOf, ResponseOf } from '../../protocol/api.js';
import { AddOffsetsToTxn, AddPartitionsToTxn, EndTxn, Produce, TxnOffsetCommit } from '../../protocol/apis/index.js';
import { OffsetFetch } from '../../protocol/generated/offset-fetch.js';
import { encodeRecordBatch } from '../../protocol/records/index.js';
import { endOffset, readPartition } from '../../reader/partition-reader.js';
import { initTransactional, sleep } from '../admin.js';
import type { Category, Check, CheckContext } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';
import { comparable } from '../records.js';
import type { CreatedTopic, Session } from '../session.js';
import { produceBatch } from '../wire-ops.js';

type Protocol = 'v1' | 'v2';

const COORDINATOR_NOT_READY = ['NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE'];

/** The highest version of each API a protocol uses. */
const MAX: Record<Protocol, { produce: number; endTxn: number; txnOffsetCommit: number }> = {
  v1: { produce: 11, endTxn: 4, txnOffsetCommit: 4 },
  v2: { produce: Produce.maxVersion, endTxn: EndTxn.maxVersion, txnOffsetCommit: TxnOffsetCommit.maxVersion },
};

/** Why `protocol` cannot be used with this broker, or undefined. */
function unavailable(protocol: Protocol, broker: BrokerConnection): string | undefined {
  if (broker.versionFor(EndTxn) === undefined) return 'EndTxn is not offered';
  if (protocol === 'v1') return broker.versionFor(AddPartitionsToTxn) === undefined ? 'AddPartitionsToTxn is not offered' : undefined;
  const level = broker.features.finalized.get('transaction.version')?.max ?? 0;
  if (level < 2) return `transaction.version is ${level}, not 2`;
  if ((broker.versionFor(EndTxn) ?? 0) < 5 || (broker.versionFor(Produce) ?? 0) < 12) return 'EndTxn v5 and Produce v12 are not both offered';
  return undefined;
}

/** One transactional producer, speaking one protocol to one partition. */
class Txn {
  constructor(
    readonly session: Session,
    readonly protocol: Protocol,
    readonly transactionalId: string,
    readonly topic: CreatedTopic,
    readonly partition: number,
    public producerId: bigint,
    public producerEpoch: number,
    private sequence = 0,
  ) {}

  static async init(session: Session, protocol: Protocol, transactionalId: string, topic: CreatedTopic, partition: number): Promise<Txn> {
    const coordinator = await session.coordinator(transactionalId, 1);
    const { producerId, producerEpoch } = await initTransactional(coordinator, transactionalId);
    return new Txn(session, protocol, transactionalId, topic, partition, producerId, producerEpoch);
  }

  /** A request to the transaction coordinator, at the highest version up to `max`. */
  async #toCoordinator<A extends AnyApi>(api: A, body: RequestOf<A>, max?: number): Promise<ResponseOf<A>> {
    const coordinator = await this.session.coordinator(this.transactionalId, 1);
    return this.session.call(coordinator, api, coordinator.requireVersion(api, max), body);
  }

  /** v1: adds the partition first. Returns the Produce answer's error name. */
  async produce(values: string[]): Promise<string> {
    if (this.protocol === 'v1') {
      const response = await this.#toCoordinator(AddPartitionsToTxn, {
        v3AndBelowTransactionalId: this.transactionalId,
        v3AndBelowProducerId: this.producerId,
        v3AndBelowProducerEpoch: this.producerEpoch,
        v3AndBelowTopics: [{ name: this.topic.name, partitions: [this.partition] }],
      });
      const code = response.resultsByTopicV3AndBelow[0]?.resultsByPartition[0]?.partitionErrorCode ?? -1;
      if (code !== 0) return `AddPartitionsToTxn: ${errorName(code)}`;
    }
    const records = values.map((value) => ({ key: null, value }));
    const stamp = { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: this.sequence, transactional: true };
    const leader = await this.session.leader(this.topic, this.partition);
    const version = leader.requireVersion(Produce, MAX[this.protocol].produce);
    const answer = await produceBatch(this.session, this.topic, this.partition, encodeRecordBatch(records, stamp), { version, transactionalId: this.transactionalId });
    if (answer!.errorCode === 0) this.sequence += records.length;
    return errorName(answer!.errorCode);
  }

  async end(committed: boolean): Promise<string> {
    const body = { transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, committed };
    const response = await this.#toCoordinator(EndTxn, body, MAX[this.protocol].endTxn);
    return errorName(response.errorCode);
  }

  /** sendOffsetsToTransaction: v1 adds the group first; the commit goes to the group's coordinator. */
  async sendOffsets(groupId: string, offset: bigint): Promise<string> {
    if (this.protocol === 'v1') {
      const response = await this.#toCoordinator(AddOffsetsToTxn, { transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, groupId });
      if (response.errorCode !== 0) return `AddOffsetsToTxn: ${errorName(response.errorCode)}`;
    }
    // The group's coordinator may still be loading (or moving): a producer retries those.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const group = await this.session.coordinator(groupId, 0);
      const response = await this.session.call(group, TxnOffsetCommit, group.requireVersion(TxnOffsetCommit, MAX[this.protocol].txnOffsetCommit), {
        transactionalId: this.transactionalId,
        groupId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        topics: [{ name: this.topic.name, partitions: [{ partitionIndex: this.partition, committedOffset: offset }] }],
      });
      const name = errorName(response.topics[0]?.partitions[0]?.errorCode ?? -1);
      if (!COORDINATOR_NOT_READY.includes(name) || Date.now() > deadline) return name;
      await sleep(200);
    }
  }

  /**
   * The offset the group has committed for this partition, as OffsetFetch answers it, or
   * the error. With require_stable (v7+) the coordinator answers UNSTABLE_OFFSET_COMMIT
   * until the commit's markers are written: asked again, as a consumer does.
   */
  async committedOffset(groupId: string): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const group = await this.session.coordinator(groupId, 0);
      const version = group.requireVersion(OffsetFetch);
      const topics = [{ name: this.topic.name, topicId: this.topic.topicId, partitionIndexes: [this.partition] }];
      const response = await this.session.call(group, OffsetFetch, version, version >= 8 ? { groups: [{ groupId, topics }], requireStable: true } : { groupId, topics, requireStable: true });
      const answer = version >= 8 ? response.groups[0] : response;
      const partition = answer?.topics[0]?.partitions[0];
      const name = errorName(answer?.errorCode || partition?.errorCode || 0);
      if (name === 'NONE' && partition) return partition.committedOffset.toString();
      if (![...COORDINATOR_NOT_READY, 'UNSTABLE_OFFSET_COMMIT'].includes(name) || Date.now() > deadline) return `OffsetFetch v${version}: ${name}`;
      await sleep(200);
    }
  }

  async read(isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
    const leader = await this.session.leader(this.topic, this.partition);
    const contents = await readPartition(leader, { topic: this.topic.name, topicId: this.topic.topicId, partition: this.partition, isolation });
    return contents.records.map((r) => comparable(r).value ?? '').map((hex) => Buffer.from(hex, 'hex').toString());
  }
}

type Body = (txn: Txn, t: CheckContext) => Promise<void>;

const CHECKS: Array<[string, string, Body]> = [
  [
    'commit',
    'committed records are read with read_committed',
    async (txn) => {
      expectEqual('Produce', await txn.produce(['c1', 'c2']), 'NONE');
      expectEqual('EndTxn (commit)', await txn.end(true), 'NONE');
      expectEqual('read_committed', await txn.read('read_committed'), ['c1', 'c2']);
    },
  ],
  [
    'abort',
    'aborted records are hidden from read_committed, seen by read_uncommitted',
    async (txn) => {
      expectEqual('Produce', await txn.produce(['a1', 'a2']), 'NONE');
      expectEqual('EndTxn (abort)', await txn.end(false), 'NONE');
      expectEqual('read_committed', await txn.read('read_committed'), []);
      expectEqual('read_uncommitted', await txn.read('read_uncommitted'), ['a1', 'a2']);
    },
  ],
  [
    'read-committed',
    'records of an open transaction stay above the last stable offset until it commits',
    async (txn) => {
      expectEqual('Produce', await txn.produce(['o1']), 'NONE');
      const leader = await txn.session.leader(txn.topic, txn.partition);
      const stable = await endOffset(leader, txn.topic.name, txn.partition, 'read_committed');
      const high = await endOffset(leader, txn.topic.name, txn.partition, 'read_uncommitted');
      expectEqual('last stable offset and high watermark while open', { stable, high }, { stable: 0n, high: 1n });
      expectEqual('EndTxn (commit)', await txn.end(true), 'NONE');
      expectEqual('read_committed after the commit', await txn.read('read_committed'), ['o1']);
    },
  ],
  [
    'fencing',
    'a second InitProducerId for the same transactional id fences the first producer',
    async (txn, t) => {
      expectEqual('Produce', await txn.produce(['f1']), 'NONE');
      const newer = await Txn.init(txn.session, txn.protocol, txn.transactionalId, txn.topic, txn.partition);
      if (newer.producerId === txn.producerId && newer.producerEpoch <= txn.producerEpoch) throw new CheckFailure(`the newer producer got the same id and epoch ${newer.producerEpoch}`);
      const produced = await txn.produce(['f2']);
      if (produced === 'NONE') throw new CheckFailure('the fenced producer could still produce');
      t.observe('fencedProduce', produced);
      const ended = await txn.end(true);
      if (ended === 'NONE') throw new CheckFailure('the fenced producer could still commit');
      t.observe('fencedEndTxn', ended);
      expectEqual('read_committed (the fenced transaction was aborted)', await txn.read('read_committed'), []);
    },
  ],
  [
    'send-offsets',
    'offsets sent to a transaction are committed with it (sendOffsetsToTransaction)',
    async (txn) => {
      expectEqual('Produce', await txn.produce(['s1']), 'NONE');
      const group = `${txn.transactionalId}-group`;
      expectEqual('TxnOffsetCommit', await txn.sendOffsets(group, 1n), 'NONE');
      expectEqual('EndTxn (commit)', await txn.end(true), 'NONE');
      expectEqual('read_committed', await txn.read('read_committed'), ['s1']);
      expectEqual("the group's committed offset (OffsetFetch)", await txn.committedOffset(group), '1');
    },
  ],
];

export const transactionsCategory: Category = {
  name: 'transactions',
  async plan(session, broker) {
    const checks: Check[] = [];
    for (const protocol of ['v1', 'v2'] as const) {
      const why = unavailable(protocol, broker);
      let topic: Promise<CreatedTopic> | undefined;
      const shared = (): Promise<CreatedTopic> => (topic ??= session.createTopic(`transactions-${protocol}`, { partitions: CHECKS.length }));
      CHECKS.forEach(([name, title, body], partition) => {
        const id = `transactions/${protocol}/${name}`;
        checks.push({
          id,
          title: `transactions ${protocol}: ${title}`,
          ...(why ? { notOffered: why } : {}),
          async run(t) {
            const created = await shared();
            await body(await Txn.init(session, protocol, session.topicName(`txn-${protocol}-${name}`), created, partition), t);
          },
        });
      });
    }
    return checks;
  },
};
