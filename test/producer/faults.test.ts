/**
 * Idempotence under real faults: a TCP proxy between the producer and a real broker cuts
 * every connection every few hundred milliseconds (now and then mid-frame, and every other
 * time right after a Produce request has reached the broker, before its answer) while 200k
 * records are produced with 5 requests in flight, and the broker itself is restarted once
 * mid-stream, its answers lost for a moment before it stops (so batches in flight then are
 * written, unacknowledged). Read back directly from the broker: every record exactly once,
 * in send order per partition, no gap.
 *
 * Before it, the broker behaviour that made that test find a duplicate, pinned down: a
 * restarted broker remembers only the last batch of each producer, so retries of the
 * batches before it are refused as out of sequence although they are in the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type KafkaCluster } from '../../scripts/kafka/cluster.js';
import { LATEST_KAFKA } from '../../scripts/kafka/versions.js';
import { Producer } from '../../src/index.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { InitProducerId, Produce } from '../../src/protocol/apis/index.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { endOffset, readPartition } from '../../src/reader/partition-reader.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { clusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const external = clusters().some((c) => c.version === 'external');

describe.skipIf(external)('idempotence under faults', () => {
  let cluster: KafkaCluster;
  let proxy: FaultProxy;
  beforeAll(async () => {
    cluster = await startCluster({ version: LATEST_KAFKA, nodes: 1, name: `faults-${process.pid}` });
    const node = cluster.nodes[0]!;
    proxy = await FaultProxy.start({ host: node.host, port: node.port });
  }, 180_000);
  afterAll(async () => {
    await proxy?.close();
    await cluster?.stop();
  });

  /** A clean restart; with `loseAnswersMs`, the broker's answers are lost for that long before it stops. */
  async function restartBroker(loseAnswersMs = 0): Promise<void> {
    const id = cluster.nodes[0]!.id;
    if (loseAnswersMs > 0) {
      proxy.dropResponses(true);
      await new Promise((r) => setTimeout(r, loseAnswersMs));
    }
    await cluster.stopNode(id);
    proxy.dropResponses(false);
    await cluster.startNode(id);
  }

  /**
   * One record to each of partitions 0 and 1 acknowledged, then 40 more each sent while the
   * broker's answers are lost, waiting until the broker has written what reached it (five
   * batches a partition) and nothing more comes. Returns what was sent per partition, the
   * unanswered sends, and how many records the broker wrote without answering.
   */
  async function writeWithLostAnswers(producer: Producer, topic: string, direct: BrokerConnection) {
    const sent = new Map<number, string[]>([[0, []], [1, []]]);
    const send = (partition: number, value: string) => {
      sent.get(partition)!.push(value);
      return producer.send({ topic, partition, value });
    };
    await Promise.all([send(0, 'first 0'), send(1, 'first 1')]);
    proxy.dropResponses(true);
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) for (const partition of [0, 1]) pending.push(send(partition, `${partition}-${i} ${'x'.repeat(200)}`));
    let last = -1n;
    for (let stable = 0; stable < 5; ) {
      await new Promise((r) => setTimeout(r, 200));
      const now = (await endOffset(direct, topic, 0)) + (await endOffset(direct, topic, 1));
      stable = now === last && now > 2n ? stable + 1 : 0;
      last = now;
    }
    return { sent, pending, writtenUnanswered: last - 2n };
  }

  /** Each partition's records, read back from the broker, equal what was sent to it. */
  async function expectReadBack(topic: string, sent: Map<number, string[]>, isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted') {
    const reader = await openBroker(cluster);
    for (const [partition, values] of sent) {
      const { records } = await readPartition(reader, { topic, partition, isolation, timeoutMs: 30_000 });
      expect(records.map((r) => r.value!.toString()), `partition ${partition}`).toEqual(values);
    }
    await reader.close();
  }

  it('a restarted broker dedups only the last batch of a producer: retries of earlier written ones get OUT_OF_ORDER_SEQUENCE_NUMBER', async () => {
    const topic = uniqueTopic('restart-dedup');
    let broker = await openBroker(cluster);
    const { topicId } = await createTopic(broker, topic);
    let init;
    for (;;) {
      ({ response: init } = await broker.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 }));
      if (init.errorCode === 0) break;
      await new Promise((r) => setTimeout(r, 200)); // the producer-id manager may still be loading
    }
    const produce = async (conn: BrokerConnection, baseSequence: number) => {
      const records = encodeRecordBatch([{ key: null, value: `a${baseSequence}` }, { key: null, value: `b${baseSequence}` }], {
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        baseSequence,
      });
      const { response } = await conn.request(Produce, { acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records }] }] });
      const p = response.responses[0]!.partitionResponses[0]!;
      return [p.errorCode, p.baseOffset] as const;
    };
    const sequences = [0, 2, 4, 6, 8];
    const first = [];
    for (const s of sequences) first.push(await produce(broker, s));
    expect(first).toEqual(sequences.map((s) => [0, BigInt(s)]));
    // Before a restart, every one of the last five batches is recognised (with its offset).
    for (const s of sequences) expect(await produce(broker, s)).toEqual([0, BigInt(s)]);
    await broker.close();

    await restartBroker();
    broker = await openBroker(cluster);
    const after = [];
    for (const s of sequences) after.push(await produce(broker, s));
    // The snapshot a clean shutdown leaves keeps one batch per producer.
    expect(after).toEqual([[45, -1n], [45, -1n], [45, -1n], [45, -1n], [0, 8n]]);
    // And the log has each batch once: the next sequence goes on from there.
    expect(await produce(broker, 10)).toEqual([0, 10n]);
    await broker.close();
  }, 180_000);

  it('a broker restarted after writing batches whose answers were lost: their retries are neither lost nor written twice', async () => {
    const topic = uniqueTopic('lost-answers');
    const direct = await openBroker(cluster);
    await createTopic(direct, topic, { partitions: 2 });
    const producer = new Producer({
      bootstrap: cluster.bootstrap,
      mapBrokerAddress: () => ({ host: proxy.host, port: proxy.port }),
      // Small fixed batches, so that 5 of each partition are in flight at once.
      batchSize: 1024,
      maxBatchSize: 1024,
      lingerMs: 0,
      maxInFlight: 5,
      requestTimeoutMs: 60_000,
      retryBackoffMs: 50,
      deliveryTimeoutMs: 150_000,
    });
    const { sent, pending, writtenUnanswered } = await writeWithLostAnswers(producer, topic, direct);
    await direct.close();
    expect(writtenUnanswered).toBeGreaterThan(0n);
    expect(writtenUnanswered).toBeLessThan(80n);

    await restartBroker();
    await Promise.all(pending);
    expect(producer.metrics().retries).toBeGreaterThan(0);
    await producer.close();
    await expectReadBack(topic, sent);
  }, 240_000);

  it('a transaction whose batches were written with lost answers before a broker restart commits every record once', async () => {
    const topic = uniqueTopic('txn-restart');
    const direct = await openBroker(cluster);
    await createTopic(direct, topic, { partitions: 2 });
    const producer = new Producer({
      bootstrap: cluster.bootstrap,
      mapBrokerAddress: () => ({ host: proxy.host, port: proxy.port }),
      transactionalId: uniqueTopic('txn-restart-id'),
      batchSize: 1024,
      maxBatchSize: 1024,
      lingerMs: 0,
      requestTimeoutMs: 60_000,
      retryBackoffMs: 50,
      deliveryTimeoutMs: 150_000,
      maxBlockMs: 120_000,
    });
    await producer.initTransactions();
    producer.beginTransaction();
    const { sent, pending } = await writeWithLostAnswers(producer, topic, direct);
    await direct.close();
    await restartBroker();
    await Promise.all(pending);
    await producer.commitTransaction();
    await producer.close();
    await expectReadBack(topic, sent, 'read_committed');
  }, 240_000);

  it('batches that expire unanswered: the next ones are delivered, continuing the sequence or under a new epoch as the broker proves', async () => {
    const topic = uniqueTopic('expired');
    const direct = await openBroker(cluster);
    await createTopic(direct, topic);
    const producer = new Producer({
      bootstrap: cluster.bootstrap,
      mapBrokerAddress: () => ({ host: proxy.host, port: proxy.port }),
      lingerMs: 0,
      requestTimeoutMs: 1_000,
      deliveryTimeoutMs: 2_500,
      retryBackoffMs: 50,
    });
    const inLog: string[] = [];
    const deliver = async (values: string[]) => {
      await Promise.all(values.map((value) => producer.send({ topic, partition: 0, value })));
      inLog.push(...values);
    };
    const expire = (values: string[]) =>
      Promise.all(values.map((value) => producer.send({ topic, partition: 0, value }).then(() => 'delivered', (err: Error) => err.name)));
    const range = (tag: string) => Array.from({ length: 10 }, (_, i) => `${tag}-${i}`);
    await deliver(['warm-up']);

    // Requests never reach the broker: the batches are not in the log, so the sequences the
    // next batch continues with leave a gap, which the broker refuses; they start again.
    proxy.blackhole(true);
    expect(new Set(await expire(range('lost')))).toEqual(new Set(['DeliveryTimeoutError']));
    proxy.blackhole(false);
    await deliver(range('after-lost'));

    // Requests reach the broker, answers do not: the batches are in the log although their
    // sends failed (a timeout never says "not written"), and the next batch goes on from them.
    proxy.dropResponses(true);
    expect(new Set(await expire(range('unanswered')))).toEqual(new Set(['DeliveryTimeoutError']));
    inLog.push(...range('unanswered'));
    proxy.dropResponses(false);
    await deliver(range('after-unanswered'));
    await producer.close();

    const { records } = await readPartition(direct, { topic, partition: 0, timeoutMs: 30_000 });
    expect(records.map((r) => r.value!.toString())).toEqual(inLog);
    await direct.close();
  }, 120_000);

  it('cut connections and a broker restart lose, duplicate and reorder nothing', async () => {
    const topic = uniqueTopic('faults');
    const admin = await openBroker(cluster);
    await createTopic(admin, topic, { partitions: 6 });
    await admin.close();

    const producer = new Producer({
      bootstrap: cluster.bootstrap,
      // Every connection, bootstrap included, goes through the proxy.
      mapBrokerAddress: () => ({ host: proxy.host, port: proxy.port }),
      requestTimeoutMs: 5_000,
      retryBackoffMs: 50,
      deliveryTimeoutMs: 120_000,
      maxInFlight: 5,
    });
    const total = 200_000;
    const order = new Map<number, number[]>();
    let failed = 0;
    let firstError: Error | undefined;
    let cuts = 0;
    const producesCutBefore = proxy.producesCut;
    let i = 0;
    let ticks = 0;
    const chaos = setInterval(() => {
      // Every other tick while records are still being produced, the next Produce request
      // reaches the broker and its connection is cut before the answer: a cut that surely
      // meets a request in flight, written but unanswered, so retries happen on every run
      // (the cuts below may all land between requests when the producer keeps up easily).
      // Not every tick, nor after the last record: when a retry is the only Produce request
      // to go, it would be the one cut every time, until its delivery timeout.
      proxy.cutAfterNextProduce(++ticks % 2 === 0 && i < total);
      if (proxy.cutAll() === 0) return;
      // Every third cut, the next answer is cut mid-frame too. Armed only after a cut: armed
      // every tick while the producer backs off, it cut every reconnect's ApiVersions answer.
      if (++cuts % 3 === 0) proxy.cutMidFrame();
    }, 300);
    let restarted = false;
    try {
      await new Promise<void>((resolve, reject) => {
        let settled = 0;
        const pump = (): void => {
          while (i < total) {
            const n = i++;
            const partition = n % 6;
            let list = order.get(partition);
            if (!list) order.set(partition, (list = []));
            list.push(n);
            const accepted = producer.produce({ topic, partition, value: String(n) }, (err) => {
              if (err) {
                failed++;
                firstError ??= err;
              }
              if (++settled === total) resolve();
            });
            if (n === total / 2 && !restarted) {
              restarted = true;
              // Batches in flight then are written, but their answers never arrive.
              restartBroker(300).catch(reject);
            }
            if (!accepted) return void producer.ready().then(pump);
            // Paced over several seconds, so that many cuts land mid-stream.
            if (i % 2000 === 0) return void setTimeout(pump, 100);
          }
        };
        pump();
      });
    } finally {
      clearInterval(chaos);
      proxy.cutAfterNextProduce(false);
    }
    expect(firstError?.message).toBeUndefined();
    expect(failed).toBe(0);
    expect(restarted).toBe(true);
    expect(cuts).toBeGreaterThanOrEqual(10);
    // Each Produce request cut after it reached the broker held at least one batch, which
    // was delivered (nothing failed) only by being sent again.
    const producesCut = proxy.producesCut - producesCutBefore;
    expect(producesCut).toBeGreaterThanOrEqual(5);
    expect(producer.metrics().retries).toBeGreaterThanOrEqual(producesCut);
    await producer.close();

    const reader = await openBroker(cluster);
    for (const [partition, sent] of order) {
      const { records } = await readPartition(reader, { topic, partition, timeoutMs: 60_000 });
      const got = records.map((r) => Number(r.value!.toString()));
      expect(got.length, `partition ${partition}`).toBe(sent.length);
      expect(got, `partition ${partition}: exactly once, in send order`).toEqual(sent);
    }
    await reader.close();
  }, 300_000);

  it('a slow link and then a blackhole (requests time out, connections are dropped) lose, duplicate and reorder nothing', async () => {
    const topic = uniqueTopic('blackhole');
    const admin = await openBroker(cluster);
    await createTopic(admin, topic, { partitions: 3 });
    await admin.close();
    const producer = new Producer({
      bootstrap: cluster.bootstrap,
      mapBrokerAddress: () => ({ host: proxy.host, port: proxy.port }),
      requestTimeoutMs: 1_500,
      retryBackoffMs: 50,
      deliveryTimeoutMs: 60_000,
    });
    const sent = new Map<number, number[]>();
    const pending: Array<Promise<unknown>> = [];
    for (let n = 0; n < 30_000; n++) {
      const partition = n % 3;
      let list = sent.get(partition);
      if (!list) sent.set(partition, (list = []));
      list.push(n);
      pending.push(producer.send({ topic, partition, value: String(n) }));
      if (n === 5_000) proxy.delay(50);
      if (n === 12_000) {
        proxy.delay(0);
        proxy.blackhole(true);
        setTimeout(() => proxy.blackhole(false), 2_500);
      }
      if (n % 1000 === 999) await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(pending);
    expect(producer.metrics().retries).toBeGreaterThan(0);
    await producer.close();
    const reader = await openBroker(cluster);
    for (const [partition, values] of sent) {
      const { records } = await readPartition(reader, { topic, partition, timeoutMs: 60_000 });
      expect(records.map((r) => Number(r.value!.toString())), `partition ${partition}`).toEqual(values);
    }
    await reader.close();
  }, 120_000);
});
