/**
 * Transactions against real brokers: transactions v1 (Kafka 3.9, and a 4.x broker
 * formatted with transaction.version=1) and v2 (Kafka 4.x's default). Committed records
 * are read once with read_committed, aborted ones never, checked by our reader and by
 * Kafka's console consumer; offsets sent in a transaction count only once it commits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type KafkaCluster } from '../../scripts/kafka/cluster.js';
import { LATEST_KAFKA } from '../../scripts/kafka/versions.js';
import { ConfigError, InvalidRecordError, Producer, ProducerFencedError, RecordTooLargeError, TransactionAbortableError, TransactionalProducerPool, TransactionStateError } from '../../src/index.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { Produce } from '../../src/protocol/apis/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { endOffset, readPartition } from '../../src/reader/partition-reader.js';
import { clusters, hasTools, kafkaTools, singleNodeClusters, uniqueTopic, type ProvidedCluster } from '../helpers/kafka.js';
import { createTopic, initTransactional, openBroker } from '../helpers/wire.js';

interface Target {
  name: string;
  bootstrap: string;
  /** Cluster whose tools can read it, when there is one. */
  tools: ProvidedCluster | undefined;
  expectV2: boolean | undefined;
}

const external = clusters().some((c) => c.version === 'external');
const targets: Target[] = singleNodeClusters().map((c) => ({
  name: c.name,
  bootstrap: c.bootstrap,
  tools: hasTools(c) ? c : undefined,
  expectV2: c.version === 'external' ? undefined : !c.version.startsWith('3.'),
}));
// A 4.x broker with transactions v1, started by this file (see below).
const tv1Name = `kafka-${LATEST_KAFKA}-tv1`;
if (!external) targets.push({ name: tv1Name, bootstrap: '', tools: undefined, expectV2: false });

let tv1: KafkaCluster | undefined;
beforeAll(async () => {
  if (external) return;
  tv1 = await startCluster({ version: LATEST_KAFKA, nodes: 1, name: `txn-v1-${process.pid}`, features: { 'transaction.version': 1 } });
  const target = targets.find((t) => t.name === tv1Name)!;
  target.bootstrap = tv1.bootstrap;
  // Kafka's tools need only a release's jars and the address.
  target.tools = { name: tv1Name, version: LATEST_KAFKA, toolsVersion: LATEST_KAFKA, nodes: 1, bootstrap: tv1.bootstrap, dir: null, brokers: [] };
}, 180_000);
afterAll(async () => {
  await tv1?.stop();
});

describe.each(targets)('transactions on $name', (target) => {
  let broker: BrokerConnection;
  const producers: Producer[] = [];
  const producer = (transactionalId: string): Producer => {
    const p = new Producer({ bootstrap: target.bootstrap, transactionalId, lingerMs: 2 });
    producers.push(p);
    return p;
  };
  beforeAll(async () => {
    broker = await openBroker(target);
  });
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close({ timeoutMs: 5000 })));
    await broker?.close();
  });

  // The broker side of transactions v1 and v2, with hand-made requests. kafka-wire (like
  // Java) stays at Produce <= 11 without transactions v2; a 4.x broker formatted with
  // transaction.version=1 would still take v12 and add the partition.
  it('the leader refuses a batch for a partition not added to the transaction below Produce v12, and from v12 adds it', async () => {
    const topic = uniqueTopic('txn-add');
    const { topicId } = await createTopic(broker, topic);
    const outcome = async (version: number): Promise<number> => {
      const transactionalId = `${topic}-v${version}`;
      const identity = await initTransactional(broker, transactionalId);
      const records = encodeRecordBatch([{ key: null, value: 'x' }], { ...identity, baseSequence: 0, transactional: true });
      // A new topic's leader may not act as leader yet although metadata names it.
      for (let attempt = 0; ; attempt++) {
        const response = await broker.connection.send(Produce, version, {
          transactionalId,
          acks: -1,
          timeoutMs: 5_000,
          topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records }] }],
        });
        const code = response.responses[0]!.partitionResponses[0]!.errorCode;
        if (code !== ErrorCode.NOT_LEADER_OR_FOLLOWER || attempt >= 50) return code;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // Verified since 3.6 (KIP-890 part 1): TRANSACTION_ABORTABLE from Produce v11, INVALID_TXN_STATE before.
    expect([120, 48]).toContain(await outcome(11));
    if ((broker.versionFor(Produce) ?? 0) >= 12) expect(await outcome(12)).toBe(0);
  });

  it('committed records are read once with read_committed, aborted ones never', async () => {
    const topic = uniqueTopic('txn');
    await createTopic(broker, topic, { partitions: 3 });
    const p = producer(uniqueTopic('tid'));
    expect(() => p.beginTransaction()).toThrow(TransactionStateError);
    await p.initTransactions();
    expect(p.transactionState).toBe('ready');
    await expect(p.send({ topic, value: 'outside' })).rejects.toThrow(/beginTransaction\(\) first/);

    const batch = (tag: string, n: number): Array<Promise<unknown>> =>
      Array.from({ length: n }, (_, i) => p.send({ topic, partition: i % 3, value: `${tag}-${i}` }));
    p.beginTransaction();
    await Promise.all(batch('commit1', 12));
    await p.commitTransaction();
    p.beginTransaction();
    await Promise.all(batch('abort', 9));
    await p.abortTransaction();
    p.beginTransaction();
    const lastBatch = batch('commit2', 6);
    await p.commitTransaction();
    await Promise.all(lastBatch);

    const committed: string[] = [];
    const everything: string[] = [];
    for (let partition = 0; partition < 3; partition++) {
      const rc = await readPartition(broker, { topic, partition, isolation: 'read_committed' });
      committed.push(...rc.records.map((r) => r.value!.toString()));
      const ru = await readPartition(broker, { topic, partition, isolation: 'read_uncommitted' });
      everything.push(...ru.records.map((r) => r.value!.toString()));
      expect(ru.batches.filter((b) => b.attributes.control).map((b) => b.records[0]!.control!.type)).toEqual(['commit', 'abort', 'commit']);
      expect(ru.batches.filter((b) => !b.attributes.control).every((b) => b.attributes.transactional)).toBe(true);
    }
    expect(committed.sort()).toEqual([...Array.from({ length: 12 }, (_, i) => `commit1-${i}`), ...Array.from({ length: 6 }, (_, i) => `commit2-${i}`)].sort());
    expect(everything.filter((v) => v.startsWith('abort-'))).toHaveLength(9);

    if (target.tools) {
      const consumed = await kafkaTools(target.tools).consoleConsume({ topic, maxMessages: 18, isolationLevel: 'read_committed', timeoutMs: 30_000 });
      expect(consumed.messages.sort()).toEqual(committed.sort());
    }
  });

  it.skipIf(!target.tools && target.name !== tv1Name)('offsets sent in a transaction become the group\'s only when it commits', async () => {
    const topic = uniqueTopic('offsets');
    await createTopic(broker, topic);
    const tools = kafkaTools(target.tools!);
    const plain = new Producer({ bootstrap: target.bootstrap });
    await Promise.all(Array.from({ length: 10 }, (_, i) => plain.send({ topic, value: `m${i}` })));
    await plain.close();

    const p = producer(uniqueTopic('tid-offsets'));
    await p.initTransactions();
    const aborted = uniqueTopic('group-aborted');
    p.beginTransaction();
    await p.sendOffsetsToTransaction([{ topic, partition: 0, offset: 4n }], { groupId: aborted });
    await p.abortTransaction();
    const committedGroup = uniqueTopic('group-committed');
    p.beginTransaction();
    await p.sendOffsetsToTransaction([{ topic, partition: 0, offset: 4n }], { groupId: committedGroup });
    await p.commitTransaction();

    // A consumer in the committed group starts at offset 4; in the aborted one, at the start.
    // Each stops at the count it should get (one starting at 0 in the committed group reads
    // m0-m5 and fails); the idle timeout is only for a consumer that gets nothing, and is
    // generous because a JVM joining a group on a loaded machine once took more than 8 s.
    const fromCommitted = await tools.consoleConsume({ topic, group: committedGroup, fromBeginning: true, maxMessages: 6, timeoutMs: 30_000 });
    expect(fromCommitted.messages).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    const fromAborted = await tools.consoleConsume({ topic, group: aborted, fromBeginning: true, maxMessages: 10, timeoutMs: 30_000 });
    expect(fromAborted.messages).toHaveLength(10);
  });

  it('a sendBatch with a record that can never be sent sends none of it: the transaction commits without any', async () => {
    const topic = uniqueTopic('batch-refused');
    await createTopic(broker, topic);
    const p = producer(uniqueTopic('tid-batch'));
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic, value: 'before' });
    const bad = [{ topic, value: 'good-1' }, { topic, value: 42 as unknown as string }, { topic, value: 'good-2' }];
    await expect(p.sendBatch(bad)).rejects.toBeInstanceOf(InvalidRecordError);
    const tooBig = [{ topic, value: 'good-3' }, { topic, value: Buffer.alloc(2 * 1024 * 1024) }];
    await expect(p.sendBatch(tooBig)).rejects.toBeInstanceOf(RecordTooLargeError);
    expect(p.transactionState).toBe('in-transaction');
    await p.sendBatch([{ topic, value: 'fixed-1' }, { topic, value: 'fixed-2' }]);
    await p.commitTransaction();
    const { records } = await readPartition(broker, { topic, partition: 0, isolation: 'read_uncommitted' });
    expect(records.map((r) => r.value!.toString())).toEqual(['before', 'fixed-1', 'fixed-2']);
  });

  it('a sendBatch of 8 times the memory budget, committed before it settled: every record committed once', async () => {
    const topic = uniqueTopic('batch-big');
    await createTopic(broker, topic, { partitions: 2 });
    const p = new Producer({ bootstrap: target.bootstrap, transactionalId: uniqueTopic('tid-big'), lingerMs: 2, bufferMemory: 1 << 20 });
    producers.push(p);
    await p.initTransactions();
    p.beginTransaction();
    const n = 8000;
    const sent = p.sendBatch(Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: `${i}`.padEnd(1000, '.') })));
    // Not awaited first: the commit waits for the records sendBatch() has still to take in.
    await p.commitTransaction();
    expect(await sent).toHaveLength(n);
    // The coordinator writes the commit markers after EndTxn is answered: the last stable
    // offsets reach the end (each partition's counts its marker) soon after.
    let committed = 0n;
    for (let tries = 0; tries < 100 && committed !== BigInt(n + 2); tries++) {
      if (tries > 0) await new Promise((r) => setTimeout(r, 100));
      committed = 0n;
      for (let partition = 0; partition < 2; partition++) committed += await endOffset(broker, topic, partition, 'read_committed');
    }
    expect(committed).toBe(BigInt(n + 2));
  });

  it('sendOffsetsToTransaction: a group given as a string is refused at once; offsets the coordinator refuses make the transaction abortable, with that error', async () => {
    const p = new Producer({ bootstrap: target.bootstrap, transactionalId: uniqueTopic('tid-offsets'), maxBlockMs: 3000 });
    producers.push(p);
    await p.initTransactions();
    p.beginTransaction();
    const offsets = [{ topic: uniqueTopic('no-such-topic'), partition: 0, offset: 5 }];
    await expect(p.sendOffsetsToTransaction(offsets, 'g' as never)).rejects.toThrow(new ConfigError('sendOffsetsToTransaction() takes the consumer group as { groupId: string }, got "g"'));
    expect(p.transactionState).toBe('in-transaction');
    const err = await p.sendOffsetsToTransaction(offsets, { groupId: uniqueTopic('g') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionAbortableError);
    expect((err as Error).message).toMatch(/^sendOffsetsToTransaction failed: .*UNKNOWN_TOPIC_OR_PARTITION.*; abort the transaction$/);
    expect(p.transactionState).toBe('abortable-error');
    await p.abortTransaction();
    expect(p.transactionState).toBe('ready');
  });

  it('a transaction the coordinator aborted after transactionTimeoutMs: the next send is abortable; then with transactions v2 abortTransaction() recovers and the next transaction commits, with v1 the abort finds the producer fenced', async () => {
    const topic = uniqueTopic('txn-timeout');
    await createTopic(broker, topic);
    const p = new Producer({ bootstrap: target.bootstrap, transactionalId: uniqueTopic('tid-timeout'), transactionTimeoutMs: 1000, lingerMs: 2 });
    producers.push(p);
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic, partition: 0, value: 'timed-out' });
    // The coordinator looks for timed-out transactions every 10 s (Kafka's default); its
    // abort marker moves the last stable offset past the record.
    const deadline = Date.now() + 60_000;
    while ((await endOffset(broker, topic, 0, 'read_committed')) === 0n) {
      if (Date.now() > deadline) throw new Error('the coordinator never aborted the transaction');
      await new Promise((r) => setTimeout(r, 500));
    }
    const err = await p.send({ topic, partition: 0, value: 'too-late' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionAbortableError);
    expect(p.transactionState).toBe('abortable-error');
    if (p.transactionVersion === 1) {
      // A v1 coordinator's timeout abort fences the epoch: InitProducerId naming it is refused.
      await expect(p.abortTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
      expect(p.transactionState).toBe('fatal-error');
      return;
    }
    await p.abortTransaction();
    expect(p.transactionState).toBe('ready');
    await p.transaction(async (tx) => {
      await tx.send({ topic, partition: 0, value: 'after-recovery' });
    });
    const { records } = await readPartition(broker, { topic, partition: 0, isolation: 'read_committed' });
    expect(records.map((r) => r.value!.toString())).toEqual(['after-recovery']);
  }, 120_000);

  it('a second producer with the same transactional id fences the first, which gets a typed fatal error', async () => {
    const topic = uniqueTopic('fence');
    await createTopic(broker, topic);
    const id = uniqueTopic('tid-fence');
    const older = producer(id);
    await older.initTransactions();
    older.beginTransaction();
    await older.send({ topic, value: 'from-older' });
    const newer = producer(id);
    await newer.initTransactions(); // aborts the older one's open transaction, with a newer epoch
    const err = await older.commitTransaction().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProducerFencedError);
    expect(older.transactionState).toBe('fatal-error');
    expect(() => older.beginTransaction()).toThrow(ProducerFencedError);
    await newer.transaction(async (tx) => {
      await tx.send({ topic, value: 'from-newer' });
    });
    const { records } = await readPartition(broker, { topic, partition: 0, isolation: 'read_committed' });
    expect(records.map((r) => r.value!.toString())).toEqual(['from-newer']);
  });

  it('100 transactional producers at once, 10 transactions of 10 records each, all commit', async () => {
    const topic = uniqueTopic('many-txn');
    await createTopic(broker, topic, { partitions: 6 });
    const prefix = uniqueTopic('tid-many');
    const workers = Array.from({ length: 100 }, (_, w) => producer(`${prefix}-${w}`));
    await Promise.all(
      workers.map(async (p, w) => {
        await p.initTransactions();
        for (let t = 0; t < 10; t++) {
          await p.transaction(async (tx) => {
            await Promise.all(Array.from({ length: 10 }, (_, i) => tx.send({ topic, key: `w${w}`, value: `w${w}-t${t}-r${i}` })));
          });
        }
      }),
    );
    const values: string[] = [];
    for (let partition = 0; partition < 6; partition++) {
      const { records } = await readPartition(broker, { topic, partition, isolation: 'read_committed' });
      values.push(...records.map((r) => r.value!.toString()));
    }
    expect(values).toHaveLength(10_000);
    expect(new Set(values).size).toBe(10_000);
    await Promise.all(workers.map((p) => p.close()));
  }, 180_000);

  it('a pool of transactional producers serves 500 concurrent requests, each its own transaction', async () => {
    const topic = uniqueTopic('pool');
    await createTopic(broker, topic, { partitions: 3 });
    const pool = new TransactionalProducerPool({ bootstrap: target.bootstrap, size: 20, transactionalIdPrefix: uniqueTopic('pool'), lingerMs: 1 });
    try {
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, r) =>
          pool.run(async (p) => {
            await p.send({ topic, partition: r % 3, value: `req-${r}-a` });
            await p.send({ topic, partition: (r + 1) % 3, value: `req-${r}-b` });
            return r;
          }),
        ),
      );
      expect(results).toHaveLength(500);
      // A request that throws aborts its transaction and leaves the pool usable.
      await expect(pool.run(async (p) => {
        await p.send({ topic, value: 'never-committed' });
        throw new Error('handler failed');
      })).rejects.toThrow('handler failed');
      const values: string[] = [];
      for (let partition = 0; partition < 3; partition++) {
        const { records } = await readPartition(broker, { topic, partition, isolation: 'read_committed' });
        values.push(...records.map((rec) => rec.value!.toString()));
      }
      expect(values).toHaveLength(1000);
      expect(values).not.toContain('never-committed');
      expect(pool.replaced).toBe(0);
    } finally {
      await pool.close();
    }
  }, 180_000);

  it.skipIf(target.expectV2 === undefined)(`uses transactions ${target.expectV2 ? 'v2' : 'v1'} on this broker`, async () => {
    const p = producer(uniqueTopic('tid-version'));
    await p.initTransactions();
    expect(p.transactionVersion).toBe(target.expectV2 ? 2 : 1);
  });
});
