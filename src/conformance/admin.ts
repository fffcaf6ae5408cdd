/**
 * The requests every check leans on: versions both sides speak, creating a topic and
 * waiting for its leaders, a transactional producer id. Shared with the repository's own
 * broker tests (test/helpers/wire.ts re-exports them).
 */
import { BrokerError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import type { AnyApi } from '../protocol/api.js';
import { CreateTopics, FindCoordinator, InitProducerId, LATEST_TIMESTAMP, ListOffsets, Metadata } from '../protocol/apis/index.js';

/** Versions of `api` that the broker and kafka-wire both speak. */
export function commonVersions(broker: BrokerConnection, api: Pick<AnyApi, 'key' | 'minVersion' | 'maxVersion'>): number[] {
  const theirs = broker.brokerVersions.get(api.key);
  if (!theirs) return [];
  const versions: number[] = [];
  for (let v = Math.max(theirs.min, api.minVersion); v <= Math.min(theirs.max, api.maxVersion); v++) versions.push(v);
  return versions;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  replicas: number[];
}

/**
 * Topic settings the checks' expectations rest on, set on every topic the suite creates
 * (a check may set others): a broker whose defaults differ (log.message.timestamp.type,
 * compression.type) is still Apache Kafka, and must not fail checks for it.
 */
const PINNED_TOPIC_CONFIGS: Readonly<Record<string, string>> = {
  'compression.type': 'producer',
  'message.timestamp.type': 'CreateTime',
};

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** Creates a topic and waits until every partition has a leader; returns its id and partitions. */
export async function createTopic(broker: BrokerConnection, name: string, opts: CreateTopicOptions = {}): Promise<{ topicId: string; partitions: PartitionInfo[] }> {
  const partitions = opts.partitions ?? 1;
  const configs = Object.entries({ ...PINNED_TOPIC_CONFIGS, ...opts.configs }).map(([k, value]) => ({ name: k, value }));
  const { version, response } = await broker.request(CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: opts.replicationFactor ?? 1, configs }],
  });
  const result = response.topics[0];
  if (!result || result.errorCode !== 0) throw new BrokerError(result?.errorCode ?? -1, { api: `CreateTopics v${version}`, detail: result?.errorMessage ?? 'no answer for the topic' });
  const { topicId, partitions: list, servedHere } = await leadersOf(broker, name, partitions);
  // A Produce right after this must find the partition served (see waitUntilServed); this
  // connection can check the partitions its own broker leads, the others are the caller's.
  await waitUntilServed(async () => broker, name, servedHere);
  return { topicId, partitions: list };
}

/** A new topic's leaders take a moment to be elected and to reach every broker's cache. */
export async function waitForLeaders(broker: BrokerConnection, topic: string, partitions: number, timeoutMs = 30_000): Promise<{ topicId: string; partitions: PartitionInfo[] }> {
  const { topicId, partitions: list } = await leadersOf(broker, topic, partitions, timeoutMs);
  return { topicId, partitions: list };
}

/** waitForLeaders, plus the partitions led by the broker at the other end of `broker`. */
async function leadersOf(broker: BrokerConnection, topic: string, partitions: number, timeoutMs = 30_000): Promise<{ topicId: string; partitions: PartitionInfo[]; servedHere: number[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { response } = await broker.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false });
    const t = response.topics[0];
    if (t && t.errorCode === 0 && t.partitions.length === partitions && t.partitions.every((p) => p.leaderId >= 0)) {
      const list = t.partitions
        .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes }))
        .sort((a, b) => a.partition - b.partition);
      const here = response.brokers.find((b) => `${b.host}:${b.port}` === broker.address)?.nodeId;
      return { topicId: t.topicId, partitions: list, servedHere: list.filter((p) => p.leader === here).map((p) => p.partition) };
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/**
 * Metadata names a new partition's leader before that leader serves it: until then a
 * Produce is NOT_LEADER_OR_FOLLOWER (and with acks=0 the broker closes the connection).
 * ListOffsets answers NONE once the leader has the partition's log.
 */
export async function waitUntilServed(leaderOf: (partition: number) => Promise<BrokerConnection>, topic: string, partitions: number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = partitions;
  while (waiting.length > 0) {
    // One ListOffsets per leader a round, for all the partitions it leads.
    const byLeader = new Map<BrokerConnection, number[]>();
    for (const partition of waiting) {
      const leader = await leaderOf(partition);
      const led = byLeader.get(leader);
      if (led) led.push(partition);
      else byLeader.set(leader, [partition]);
    }
    const served = new Set<number>();
    for (const [leader, led] of byLeader) {
      const { response } = await leader.request(ListOffsets, {
        isolationLevel: 0,
        topics: [{ name: topic, partitions: led.map((partitionIndex) => ({ partitionIndex, timestamp: LATEST_TIMESTAMP })) }],
      });
      for (const p of response.topics[0]?.partitions ?? []) if (p.errorCode === 0) served.add(p.partitionIndex);
    }
    waiting = waiting.filter((p) => !served.has(p));
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${topic}: partitions ${waiting.join(', ')} not served after ${timeoutMs / 1000} s`);
    await sleep(20); // usually served within tens of milliseconds of the leader's election
  }
}

/** Retries `attempt` every 200 ms while it answers a (retriable, loading) error code. */
async function retryInit(what: string, attempt: () => Promise<{ errorCode: number; producerId: bigint; producerEpoch: number }>): Promise<{ producerId: bigint; producerEpoch: number }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const response = await attempt();
    if (response.errorCode === 0) return { producerId: response.producerId, producerEpoch: response.producerEpoch };
    if (Date.now() > deadline) throw new BrokerError(response.errorCode, { api: 'InitProducerId', detail: what });
    await sleep(200);
  }
}

/** InitProducerId for an idempotent producer (no transactional id). */
export function initIdempotent(broker: BrokerConnection): Promise<{ producerId: bigint; producerEpoch: number }> {
  return retryInit('idempotent', async () => (await broker.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 })).response);
}

/** InitProducerId for a transactional id, after FindCoordinator has the coordinator load its partition. */
export function initTransactional(broker: BrokerConnection, transactionalId: string, transactionTimeoutMs = 60_000): Promise<{ producerId: bigint; producerEpoch: number }> {
  return retryInit(transactionalId, async () => {
    const findVersion = broker.requireVersion(FindCoordinator);
    await broker.request(FindCoordinator, findVersion >= 4 ? { keyType: 1, coordinatorKeys: [transactionalId] } : { key: transactionalId, keyType: 1 });
    return (await broker.request(InitProducerId, { transactionalId, transactionTimeoutMs })).response;
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
