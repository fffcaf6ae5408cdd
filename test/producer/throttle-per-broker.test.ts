/**
 * KIP-219 throttling is per broker: on a 3-node cluster, a producer that exceeds its quota
 * on one broker is muted there alone, while its records for another broker keep flowing.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Producer } from '../../src/index.js';
import { hasTools, kafkaTools, threeNodeCluster, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const cluster = threeNodeCluster();

describe.skipIf(!cluster || !hasTools(cluster))('throttling on a 3-node cluster', () => {
  it('mutes only the broker that throttles; another broker keeps taking requests', async () => {
    const c = cluster!;
    const clientId = `throttle-one-${process.pid}`;
    await kafkaTools(c).setClientQuotas(clientId, { producer_byte_rate: 64 * 1024 });
    const topic = uniqueTopic('per-broker');
    const admin = await openBroker(c);
    const { partitions } = await createTopic(admin, topic, { partitions: 3, replicationFactor: 1 });
    await admin.close();
    const heavy = partitions[0]!;
    const light = partitions.find((p) => p.leader !== heavy.leader)!;
    expect(light).toBeDefined();
    await new Promise((r) => setTimeout(r, 1000));

    const events: Array<{ kind: string; nodeId: number; at: number; throttleTimeMs?: number }> = [];
    const onRequest = (m: unknown): void => void events.push({ kind: 'request', nodeId: (m as { nodeId: number }).nodeId, at: Date.now() });
    const onResponse = (m: unknown): void => {
      const { nodeId, throttleTimeMs } = m as { nodeId: number; throttleTimeMs: number };
      events.push({ kind: 'response', nodeId, at: Date.now(), throttleTimeMs });
    };
    subscribe('kafka-wire:produce:request', onRequest);
    subscribe('kafka-wire:produce:response', onResponse);
    const p = new Producer({ bootstrap: c.bootstrap, clientId, lingerMs: 5 });
    try {
      // Well over the quota on the heavy partition's leader, in one burst.
      const value = Buffer.alloc(10_000, 1);
      const burst = Array.from({ length: 150 }, () => p.send({ topic, partition: heavy.partition, value }));
      // Meanwhile a trickle to a partition led by another broker, each one timed.
      const lightLatencies: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t = Date.now();
        await p.send({ topic, partition: light.partition, value: `light-${i}` });
        lightLatencies.push(Date.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
      const throttled = events.filter((e) => e.kind === 'response' && e.nodeId === heavy.leader && e.throttleTimeMs! > 0);
      expect(throttled.length).toBeGreaterThan(0);
      expect(p.metrics().brokers.find((b) => b.nodeId === heavy.leader)!.throttleTimeMs).toBeGreaterThan(0);
      // While the heavy broker was muted, the light one kept taking requests, promptly.
      const t = throttled[0]!;
      const lightDuring = events.filter((e) => e.kind === 'request' && e.nodeId === light.leader && e.at > t.at && e.at < t.at + t.throttleTimeMs!);
      expect(lightDuring.length).toBeGreaterThan(0);
      const heavyDuring = events.filter((e) => e.kind === 'request' && e.nodeId === heavy.leader && e.at > t.at + 5 && e.at < t.at + t.throttleTimeMs! - 5);
      expect(heavyDuring).toEqual([]);
      lightLatencies.sort((a, b) => a - b);
      expect(lightLatencies[Math.floor(lightLatencies.length / 2)]).toBeLessThan(t.throttleTimeMs!);
      await Promise.all(burst);
    } finally {
      unsubscribe('kafka-wire:produce:request', onRequest);
      unsubscribe('kafka-wire:produce:response', onResponse);
      await p.close();
    }
  }, 120_000);
});
