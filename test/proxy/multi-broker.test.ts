/**
 * The proxy in front of a three-node cluster: one listening port per broker, learned
 * from the answers, and every connection the client opens (to each partition leader)
 * goes through the proxy. Skipped when the run has no three-node cluster.
 */
import { describe, expect, it } from 'vitest';
import { Producer } from '../../src/producer/producer.js';
import { hasDecodeProblem, summaryLine, type Exchange } from '../../src/proxy/index.js';
import { startProxy } from '../../src/proxy/proxy.js';
import { threeNodeCluster, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const cluster = threeNodeCluster();

describe.skipIf(!cluster)('proxy in front of a three-node cluster', () => {
  it('opens one port per broker and carries every connection', async () => {
    const admin = await openBroker(cluster!);
    const topic = uniqueTopic('proxy-3n');
    try {
      await createTopic(admin, topic, { partitions: 6, replicationFactor: 3 });
    } finally {
      await admin.close();
    }
    const [host, port] = cluster!.bootstrap.split(',')[0]!.split(':') as [string, string];
    const exchanges: Exchange[] = [];
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host, port: Number(port) }, onExchange: (ex) => exchanges.push(ex) });
    try {
      const producer = new Producer({ bootstrap: `127.0.0.1:${proxy.address.port}`, clientId: 'proxy-3n', lingerMs: 0 });
      try {
        await Promise.all(Array.from({ length: 6 }, (_, partition) => producer.send({ topic, partition, value: `p${partition}` })));
      } finally {
        await producer.close();
      }
      const listeners = proxy.listeners();
      const brokers = cluster!.brokers.map((b) => `${b.host}:${b.port}`).sort();
      // Each broker has its own port on the proxy, and the answers named it.
      expect(listeners.map((l) => `${l.upstream.host}:${l.upstream.port}`).sort()).toEqual(brokers);
      expect(listeners.map((l) => l.nodeId).sort()).toEqual(cluster!.brokers.map((b) => b.id).sort());
      expect(new Set(listeners.map((l) => l.listen.port)).size).toBe(3);
      // The Produce requests went to every broker, through the proxy.
      await new Promise((r) => setTimeout(r, 100));
      const produceBrokers = new Set(exchanges.filter((e) => e.api === 'Produce').map((e) => e.broker));
      expect([...produceBrokers].sort()).toEqual(brokers);
      expect(exchanges.filter(hasDecodeProblem).map(summaryLine)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
