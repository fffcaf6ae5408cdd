/** kafka-wire's own requests that broker tests share: connect, create a topic, find its leaders. */
import { BrokerError } from '../../src/errors.js';
import { BrokerConnection } from '../../src/net/broker-connection.js';
import { parseBootstrap } from '../../src/net/bootstrap.js';
import { CreateTopics, FindCoordinator, InitProducerId, Metadata } from '../../src/protocol/apis/index.js';
import type { ProvidedCluster } from './kafka.js';

export async function openBroker(cluster: Pick<ProvidedCluster, 'bootstrap'>, which = 0): Promise<BrokerConnection> {
  const address = parseBootstrap(cluster.bootstrap)[which]!;
  return BrokerConnection.open({ ...address, clientId: 'kafka-wire-conformance' });
}

/** Versions of `api` that the broker and kafka-wire both speak. */
export function commonVersions(broker: BrokerConnection, api: { key: number; minVersion: number; maxVersion: number }): number[] {
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

/** Creates a topic and waits until every partition has a leader; returns its id and partitions. */
export async function createTopic(
  broker: BrokerConnection,
  name: string,
  opts: { partitions?: number; replicationFactor?: number; configs?: Record<string, string> } = {},
): Promise<{ topicId: string; partitions: PartitionInfo[] }> {
  const partitions = opts.partitions ?? 1;
  const configs = Object.entries(opts.configs ?? {}).map(([k, value]) => ({ name: k, value }));
  const { version, response } = await broker.request(CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: opts.replicationFactor ?? 1, configs }],
  });
  const result = response.topics[0]!;
  if (result.errorCode !== 0) throw new BrokerError(result.errorCode, { api: `CreateTopics v${version}`, detail: result.errorMessage });
  return waitForLeaders(broker, name, partitions);
}

/** A new topic's leaders take a moment to be elected and to reach every broker's cache. */
export async function waitForLeaders(
  broker: BrokerConnection,
  topic: string,
  partitions: number,
): Promise<{ topicId: string; partitions: PartitionInfo[] }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { response } = await broker.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false });
    const t = response.topics[0];
    if (t && t.errorCode === 0 && t.partitions.length === partitions && t.partitions.every((p) => p.leaderId >= 0)) {
      const list = t.partitions
        .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes }))
        .sort((a, b) => a.partition - b.partition);
      return { topicId: t.topicId, partitions: list };
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** InitProducerId for a transactional id, after FindCoordinator has the coordinator load its partition. */
export async function initTransactional(broker: BrokerConnection, transactionalId: string): Promise<{ producerId: bigint; producerEpoch: number }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const findVersion = broker.requireVersion(FindCoordinator);
    await broker.request(FindCoordinator, findVersion >= 4 ? { keyType: 1, coordinatorKeys: [transactionalId] } : { key: transactionalId, keyType: 1 });
    const { response } = await broker.request(InitProducerId, { transactionalId, transactionTimeoutMs: 60_000 });
    if (response.errorCode === 0) return { producerId: response.producerId, producerEpoch: response.producerEpoch };
    if (Date.now() > deadline) throw new Error(`InitProducerId for ${transactionalId}: error ${response.errorCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
