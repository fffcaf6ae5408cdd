/**
 * kafka-wire/kafkajs against a real broker: KafkaJS code switched by its import line alone
 * works, results have KafkaJS's shapes, transactions commit and abort, refused options
 * name themselves, and errors come out as KafkaJS's classes with ours as their cause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError, ConnectionError, DeliveryTimeoutError, InvalidRecordError } from '../../src/index.js';
import {
  CompressionTypes,
  Kafka,
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  logLevel,
  Partitioners,
  type Producer,
} from '../../src/kafkajs/index.js';
import { toKafkaJSError } from '../../src/kafkajs/errors.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const cluster = singleNodeClusters()[0]!;
const brokers = cluster.bootstrap.split(',');
let broker: BrokerConnection;
const open: Producer[] = [];

beforeAll(async () => {
  broker = await openBroker(cluster);
});
afterAll(async () => {
  await Promise.all(open.map((p) => p.disconnect()));
  broker?.close();
});

/** The KafkaJS client as a KafkaJS user builds it, silent. */
function client(): Kafka {
  return new Kafka({ clientId: 'kafkajs-compat', brokers, logLevel: logLevel.NOTHING });
}

function track(p: Producer): Producer {
  open.push(p);
  return p;
}

async function values(topic: string, partition = 0, isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'): Promise<string[]> {
  const { records } = await readPartition(broker, { topic, partition, isolation });
  return records.map((r) => r.value?.toString() ?? '<null>');
}

describe('kafka-wire/kafkajs', () => {
  it("runs KafkaJS's README producer example with only the import changed", async () => {
    const topic = uniqueTopic('kjs-readme');
    await createTopic(broker, topic);
    // From KafkaJS's README, verbatim but for the import and the broker list.
    const kafka = new Kafka({ clientId: 'my-app', brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'Hello KafkaJS user!' }] });
    await producer.disconnect();
    expect(await values(topic)).toEqual(['Hello KafkaJS user!']);
  });

  it('disconnect() right after sends not awaited, to a topic the producer has not seen: every message delivered', async () => {
    const topic = uniqueTopic('kjs-disconnect');
    await createTopic(broker, topic);
    const producer = client().producer();
    await producer.connect();
    const sends = Array.from({ length: 50 }, (_, i) => producer.send({ topic, messages: [{ value: `a${i}` }, { value: `b${i}` }] }));
    await producer.disconnect();
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a.length === 1 && a[0]!.errorCode === 0)).toBe(true);
    expect((await values(topic)).length).toBe(100);
  });

  it('answers send() and sendBatch() per topic-partition, with offsets as strings', async () => {
    const [a, b] = [uniqueTopic('kjs-a'), uniqueTopic('kjs-b')];
    await createTopic(broker, a, { partitions: 3 });
    await createTopic(broker, b);
    const producer = track(client().producer({ createPartitioner: Partitioners.DefaultPartitioner }));
    await producer.connect();
    const first = await producer.send({ topic: a, messages: [0, 1, 2].map((p) => ({ value: `v${p}`, partition: p })) });
    expect(first).toEqual([0, 1, 2].map((partition) => ({ topicName: a, partition, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' })));
    const batch = await producer.sendBatch({
      topicMessages: [
        { topic: b, messages: [{ key: 'k', value: 'x', headers: { h: ['1', '2'] } }] },
        { topic: a, messages: [{ value: 'y', partition: 1 }] },
        { topic: b, messages: [{ value: 'z', timestamp: '1700000000000' }] },
      ],
    });
    expect(batch.map((r) => [r.topicName, r.partition, r.baseOffset])).toEqual([
      [b, 0, '0'],
      [a, 1, '1'],
    ]);
    expect(await values(b)).toEqual(['x', 'z']);
    const { records } = await readPartition(broker, { topic: b, partition: 0 });
    expect(records[0]!.headers.map((h) => [h.key, h.value?.toString()])).toEqual([['h', '1'], ['h', '2']]);
    expect(records[1]!.timestamp).toBe(1700000000000);
    // acks and compression per send(): KafkaJS answers acks=0 with nothing.
    expect(await producer.send({ topic: a, acks: 0, compression: CompressionTypes.GZIP, messages: [{ value: 'q', partition: 2 }] })).toEqual([]);
    expect(await producer.send({ topic: a, acks: 1, compression: CompressionTypes.GZIP, messages: [{ value: 'r', partition: 2 }] })).toMatchObject([{ partition: 2, baseOffset: '2' }]);
  });

  it('commits and aborts transactions', async () => {
    const topic = uniqueTopic('kjs-txn');
    await createTopic(broker, topic);
    const producer = track(client().producer({ transactionalId: uniqueTopic('kjs-tid'), idempotent: true, maxInFlightRequests: 1 }));
    await producer.connect();
    const kept = await producer.transaction();
    await kept.send({ topic, messages: [{ value: 'committed' }] });
    await kept.commit();
    expect(kept.isActive()).toBe(false);
    await expect(kept.send({ topic, messages: [{ value: 'late' }] })).rejects.toThrow('Cannot continue to use transaction once ended');
    const dropped = await producer.transaction();
    await expect(producer.transaction()).rejects.toThrow(/already an ongoing transaction/);
    await dropped.sendBatch({ topicMessages: [{ topic, messages: [{ value: 'aborted' }] }] });
    await dropped.abort();
    // Outside a transaction, as KafkaJS allows.
    await producer.send({ topic, messages: [{ value: 'plain' }] });
    expect(await values(topic, 0, 'read_committed')).toEqual(['committed', 'plain']);
  });

  it('a transaction a newer producer with the same transactionalId took over: its send fails as KafkaJS\'s protocol error for the refusal', async () => {
    const topic = uniqueTopic('kjs-fenced');
    await createTopic(broker, topic);
    const transactionalId = uniqueTopic('kjs-fenced-tid');
    const older = track(client().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 }));
    await older.connect();
    const stale = await older.transaction();
    await stale.send({ topic, messages: [{ value: 'older' }] });
    const newer = track(client().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 }));
    await newer.connect();
    const current = await newer.transaction();
    await current.send({ topic, messages: [{ value: 'newer' }] });
    await current.commit();
    const err = await stale.send({ topic, messages: [{ value: 'late' }] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaJSProtocolError);
    expect(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']).toContain((err as KafkaJSProtocolError).type);
    expect(await values(topic, 0, 'read_committed')).toEqual(['newer']);
  });

  it('refuses what it cannot honour, naming it', async () => {
    const kafka = client();
    expect(() => kafka.consumer({ groupId: 'g' })).toThrow('kafka.consumer() is not provided by kafka-wire/kafkajs: kafka-wire is a producer');
    expect(() => kafka.admin()).toThrow(/kafka\.admin\(\) is not provided/);
    expect(() => new Kafka({ brokers, socketFactory: () => null })).toThrow(/^socketFactory is not supported/);
    expect(() => new Kafka({ brokers, sasl: { mechanism: 'aws' } as never })).toThrow(/sasl\.mechanism 'aws'/);
    expect(() => kafka.producer({ retry: { restartOnFailure: async () => true } })).toThrow(/retry\.restartOnFailure/);
    expect(() => kafka.producer({ idempotent: true, retry: { retries: 0 } })).toThrow(KafkaJSNonRetriableError);
    const producer = track(kafka.producer({ transactionalId: uniqueTopic('kjs-tid') }));
    await producer.connect();
    const txn = await producer.transaction();
    await expect(txn.send({ topic: 't', compression: CompressionTypes.GZIP, messages: [{ value: 'v' }] })).rejects.toThrow(/compression GZIP in a transaction.*send them without compression/);
    await txn.abort();
  });

  it("gives KafkaJS's errors, retriable as KafkaJS says, ours as their cause", async () => {
    const producer = track(client().producer());
    await expect(producer.send({ topic: 't', messages: [{ value: 'v' }] })).rejects.toMatchObject({ name: 'KafkaJSError', retriable: true, message: 'The producer is disconnected' });
    await producer.connect();
    const invalid = await producer.send({ topic: 'bad topic name!', messages: [{ value: 'v' }] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(KafkaJSProtocolError);
    expect(invalid).toMatchObject({ name: 'KafkaJSProtocolError', type: 'INVALID_TOPIC_EXCEPTION', code: 17, retriable: false });
    await expect(producer.send({ topic: null as never, messages: [] })).rejects.toThrow('Invalid topic');

    const notLeader = toKafkaJSError(new BrokerError(6)) as KafkaJSProtocolError;
    expect(notLeader).toMatchObject({ name: 'KafkaJSProtocolError', type: 'NOT_LEADER_OR_FOLLOWER', code: 6, retriable: true });
    expect(notLeader.cause).toBeInstanceOf(BrokerError);
    const connection = toKafkaJSError(new ConnectionError('refused', { broker: 'h:1' }));
    expect(connection).toBeInstanceOf(KafkaJSConnectionError);
    expect(connection).toMatchObject({ retriable: true, broker: 'h:1' });
    const timeout = toKafkaJSError(new DeliveryTimeoutError('late'));
    expect(timeout).toBeInstanceOf(KafkaJSNumberOfRetriesExceeded);
    expect(timeout).toMatchObject({ retriable: false, name: 'KafkaJSNumberOfRetriesExceeded' });
    const invalidRecord = toKafkaJSError(new InvalidRecordError('bad'));
    expect(invalidRecord).toBeInstanceOf(KafkaJSError);
    expect(invalidRecord).toMatchObject({ name: 'KafkaJSNonRetriableError', retriable: false });
  });

  it('emits CONNECT, DISCONNECT and REQUEST events, and a listener can be removed', async () => {
    const topic = uniqueTopic('kjs-events');
    await createTopic(broker, topic);
    const producer = client().producer();
    const seen: string[] = [];
    producer.on(producer.events.CONNECT, (e) => void seen.push(e.type));
    producer.on(producer.events.DISCONNECT, (e) => void seen.push(e.type));
    const remove = producer.on(producer.events.REQUEST, (e) => void seen.push(`${e.type}:${e.payload.apiName}`));
    expect(() => producer.on('nope' as never, () => {})).toThrow(/Event name should be one of producer.events.CONNECT/);
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'v' }] });
    await new Promise((r) => setImmediate(r));
    remove();
    await producer.send({ topic, messages: [{ value: 'w' }] });
    await producer.disconnect();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['producer.connect', 'producer.network.request:Produce', 'producer.disconnect']);
  });
});
