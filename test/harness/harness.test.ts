import { describe, expect, it } from 'vitest';
import { hasTools, kafkaTools, singleNodeClusters, threeNodeCluster, uniqueTopic } from '../helpers/kafka.js';

/**
 * Checks the harness with Kafka's own tools only, so a failure here points at
 * the clusters or the tool wrappers, never at kafka-wire.
 */

describe.each(singleNodeClusters().filter(hasTools))('single-node cluster $name', (cluster) => {
  const kafka = kafkaTools(cluster);

  it('creates and describes a topic with TopicCommand', async () => {
    const topic = uniqueTopic('harness');
    await kafka.createTopic(topic, { partitions: 3, config: { 'cleanup.policy': 'delete' } });

    const description = await kafka.describeTopic(topic);
    expect(description.partitionCount).toBe(3);
    expect(description.replicationFactor).toBe(1);
    expect(description.configs['cleanup.policy']).toBe('delete');
    expect(description.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const partition of description.partitions) expect(partition.replicas).toHaveLength(1);
  });

  // Segment files are only reachable for clusters this run started itself.
  it.skipIf(cluster.brokers.length === 0)(
    'round-trips records through ProducerPerformance, ConsoleConsumer and DumpLogSegments',
    async () => {
      const topic = uniqueTopic('harness-perf');
      await kafka.createTopic(topic, { partitions: 1 });
      await kafka.producerPerformance([
        ...['--topic', topic, '--num-records', '10', '--record-size', '16', '--throughput', '-1'],
        ...['--producer-props', 'acks=all', 'linger.ms=0'],
      ]);

      const consumed = await kafka.consoleConsume({ topic, maxMessages: 10, printOffset: true });
      expect(consumed.messages).toHaveLength(10);

      const broker = cluster.brokers[0]!;
      const segments = await kafka.segmentFiles(broker.id, topic, 0);
      expect(segments.length).toBeGreaterThan(0);
      const dump = await kafka.dumpLogSegments(segments);
      const records = dump.batches.flatMap((batch) => batch.records);
      expect(records.map((record) => Number(record['offset']))).toEqual([...Array(10).keys()]);
    },
  );
});

const threeNodes = threeNodeCluster();

describe.skipIf(!threeNodes || !hasTools(threeNodes))('three-node cluster', () => {
  it('creates a topic replicated to all three brokers', async () => {
    const kafka = kafkaTools(threeNodes!);
    const topic = uniqueTopic('harness-rf3');
    await kafka.createTopic(topic, { partitions: 2, replicationFactor: 3 });

    const description = await kafka.describeTopic(topic);
    expect(description.replicationFactor).toBe(3);
    for (const partition of description.partitions) {
      expect([...partition.replicas].sort()).toEqual([1, 2, 3]);
      expect(partition.leader).toBeGreaterThan(0);
    }
  });
});
