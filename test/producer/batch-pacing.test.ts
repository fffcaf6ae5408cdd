/**
 * When a batch leaves and how big it gets, read back from a real broker: records that
 * come at a moderate pace go in batches of at most batchSize, each as soon as it is full,
 * however long lingerMs is (Java's rule); records given faster than they leave (a backlog
 * of more than maxRequestSize) get batches past batchSize, up to maxBatchSize.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '../../src/index.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import type { RecordBatch } from '../../src/protocol/records/decode.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

/** A batch's bytes as the producer built it: batchLength counts from after the length field. */
const sizeOf = (b: RecordBatch): number => b.batchLength + 12;

describe.each(singleNodeClusters())('batch sizes and when batches leave, against $name', (cluster) => {
  let broker: BrokerConnection;
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('records at a moderate pace leave in batches of at most batchSize, each once full, long before lingerMs', async () => {
    const topic = uniqueTopic('paced-batches');
    await createTopic(broker, topic, { partitions: 1 });
    // One partition and a linger longer than the test: before batches stopped at batchSize,
    // a partition with a batch in flight opened one that could grow to maxBatchSize, and it
    // held every later record until lingerMs (or a flush).
    const lingerMs = 60_000;
    const batchSize = 2048;
    const producer = new Producer({ bootstrap: cluster.bootstrap, clientId: 'kafka-wire-test', lingerMs, batchSize });
    try {
      await producer.connect();
      // Idle a little, so the producer's first reading of its event loop's load covers time
      // spent waiting, as a producer fed at a pace would see it.
      await sleep(50);
      const value = Buffer.alloc(200, 7);
      const count = 100; // ~9 records a batch: ~11 batches, one record every 5 ms
      const latencies: number[] = new Array<number>(count);
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        sends.push(producer.send({ topic, value }).then(() => (latencies[i] = performance.now() - started)));
        await sleep(5);
      }
      // The last batch is not full: it would wait for lingerMs.
      await producer.flush();
      await Promise.all(sends);

      const { batches, records } = await readPartition(broker, { topic, partition: 0 });
      expect(records).toHaveLength(count);
      expect(batches.length).toBeGreaterThanOrEqual(Math.floor((count * value.length) / batchSize));
      for (const b of batches) expect(sizeOf(b), `batch at offset ${b.baseOffset}`).toBeLessThanOrEqual(batchSize);
      // Every batch but the last went when full: its first record waited for ~9 records at
      // one per 5 ms and a round trip, nowhere near the minute of lingerMs.
      const lastBatchFirst = count - batches[batches.length - 1]!.records.length;
      const beforeLast = latencies.slice(0, lastBatchFirst);
      expect(Math.max(...beforeLast)).toBeLessThan(5_000);
    } finally {
      await producer.close({ timeoutMs: 5000 });
    }
  });

  it('a backlog of more than maxRequestSize gets batches past batchSize, up to maxBatchSize', async () => {
    const topic = uniqueTopic('backlog-batches');
    await createTopic(broker, topic, { partitions: 1 });
    const batchSize = 2048;
    const maxBatchSize = 256 * 1024;
    const producer = new Producer({ bootstrap: cluster.bootstrap, clientId: 'kafka-wire-test', lingerMs: 60_000, batchSize, maxBatchSize });
    try {
      const value = Buffer.alloc(200, 9);
      const count = 10_000; // ~2.2 MB given at once: more than a request's worth held
      const sends = Array.from({ length: count }, () => producer.send({ topic, value }));
      await producer.flush();
      await Promise.all(sends);

      const { batches, records } = await readPartition(broker, { topic, partition: 0 });
      expect(records).toHaveLength(count);
      const sizes = batches.map(sizeOf);
      expect(Math.max(...sizes)).toBeGreaterThan(batchSize);
      for (const size of sizes) expect(size).toBeLessThanOrEqual(maxBatchSize);
      // Far fewer batches than at batchSize each (~1,100).
      expect(batches.length).toBeLessThan((count * value.length) / batchSize / 4);
    } finally {
      await producer.close({ timeoutMs: 5000 });
    }
  });
});
