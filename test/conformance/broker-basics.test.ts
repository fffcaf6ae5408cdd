/**
 * ApiVersions, Metadata and CreateTopics against real brokers, beyond what the
 * conformance suite checks (test/conformance/suite/ runs it against every cluster): what
 * these releases advertise, CreateTopics as Kafka's own tools then describe the topic (so
 * our encoder and decoder cannot agree on the same mistake), and a 3-node cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerConnection } from '../../src/net/broker-connection.js';
import { parseBootstrap } from '../../src/net/bootstrap.js';
import { ApiVersions, CreateTopics, Metadata, Produce } from '../../src/protocol/apis/index.js';
import { hasTools, kafkaTools, singleNodeClusters, threeNodeCluster, uniqueTopic } from '../helpers/kafka.js';
import { commonVersions, openBroker, waitForLeaders } from '../helpers/wire.js';

describe.each(singleNodeClusters())('broker $name', (cluster) => {
  let broker: BrokerConnection;
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('answers ApiVersions at its newest version and lists what a producer needs', () => {
    expect(broker.apiVersionsVersion).toBe(Math.min(ApiVersions.maxVersion, broker.brokerVersions.get(18)!.max));
    for (const api of [Produce, Metadata, ApiVersions]) expect(broker.versionFor(api), api.name).toBeDefined();
    const produce = broker.brokerVersions.get(Produce.key)!;
    if (cluster.version.startsWith('3.9')) expect(produce.max).toBe(11);
    if (cluster.version.startsWith('4.')) expect(produce.max).toBeGreaterThanOrEqual(12);
  });

  it('reports finalized features (metadata.version) in ApiVersions v3+', () => {
    expect(broker.features.finalized.get('metadata.version')?.max).toBeGreaterThan(0);
  });

  it.skipIf(!hasTools(cluster))('creates topics with CreateTopics at every common version, as Kafka\'s topic tool then describes them', async () => {
    const tools = kafkaTools(cluster);
    for (const v of commonVersions(broker, CreateTopics)) {
      const topic = uniqueTopic(`create-v${v}`);
      const res = await broker.connection.send(CreateTopics, v, {
        topics: [{ name: topic, numPartitions: 3, replicationFactor: 1, configs: [{ name: 'max.message.bytes', value: '65536' }] }],
        timeoutMs: 30_000,
      });
      expect(res.topics[0], `v${v}`).toMatchObject({ name: topic, errorCode: 0 });
      if (v >= 5) expect(res.topics[0]!.numPartitions, `v${v}`).toBe(3);
      const described = await tools.describeTopic(topic);
      expect(described.partitionCount, `v${v}`).toBe(3);
      expect(described.replicationFactor, `v${v}`).toBe(1);
      expect(described.configs['max.message.bytes'], `v${v}`).toBe('65536');
      if (v >= 7) expect(res.topics[0]!.topicId, `v${v}`).toBe(described.topicId);
    }
  });

});

const three = threeNodeCluster();
describe.skipIf(!three)('3-node cluster', () => {
  const cluster = three!;
  let broker: BrokerConnection;
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('lists all three nodes in Metadata', async () => {
    const { response } = await broker.request(Metadata, { topics: [] });
    const listed = response.brokers.map((b) => `${b.host}:${b.port}`).sort();
    expect(listed).toEqual(cluster.bootstrap.split(',').sort());
    expect(response.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    expect([1, 2, 3]).toContain(response.controllerId);
  });

  it('creates a topic replicated three times, and every node agrees on its leaders', async () => {
    const topic = uniqueTopic('rf3');
    const { response } = await broker.request(CreateTopics, { topics: [{ name: topic, numPartitions: 6, replicationFactor: 3 }] });
    expect(response.topics[0]!.errorCode).toBe(0);
    const views = [];
    for (const address of parseBootstrap(cluster.bootstrap)) {
      const node = await BrokerConnection.open({ ...address, clientId: 'kafka-wire-conformance' });
      try {
        views.push((await waitForLeaders(node, topic, 6)).partitions);
      } finally {
        await node.close();
      }
    }
    for (const view of views) {
      expect(view).toEqual(views[0]);
      for (const p of view) expect(p.replicas).toHaveLength(3);
    }
    if (hasTools(cluster)) {
      const described = await kafkaTools(cluster).describeTopic(topic);
      expect(described.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: [...p.replicas].sort() }))).toEqual(
        views[0]!.map((p) => ({ partition: p.partition, leader: p.leader, replicas: [...p.replicas].sort() })),
      );
    }
  });
});
