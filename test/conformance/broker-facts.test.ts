/**
 * Protocol facts kafka-wire relies on that came second-hand (tagged `[2nd]` in the
 * project's protocol notes), checked against the brokers themselves: which versions they
 * advertise and which they really take, topic ids at Produce v13, sequence wrapping, and
 * the finalized `transaction.version`. (How a leader treats a transactional batch for a partition not
 * added to the transaction is checked in test/producer/transactions.test.ts, on a
 * transactions-v1 4.x broker too.)
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { EndTxn, InitProducerId, Produce, TxnOffsetCommit } from '../../src/protocol/apis/index.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const MAX_SEQUENCE = 0x7fffffff;
const INIT_PRODUCER_ID_V6 = 6;

/**
 * An empty Produce request (no topics) written by hand, for versions kafka-wire does not
 * speak (v0-v2 are v3 without transactional_id), on a fresh socket: the answer's size,
 * or null when the broker closes the connection instead.
 */
async function rawEmptyProduce(bootstrap: string, version: number): Promise<number | null> {
  const [host, port] = bootstrap.split(',')[0]!.split(':');
  const clientId = Buffer.from('kafka-wire-facts');
  const header = Buffer.alloc(10);
  header.writeInt16BE(Produce.key, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(7, 4);
  header.writeInt16BE(clientId.length, 8);
  const body = Buffer.alloc(10);
  body.writeInt16BE(1, 0); // acks
  body.writeInt32BE(1000, 2); // timeout_ms
  body.writeInt32BE(0, 6); // no topics
  const transactionalId = Buffer.from(version >= 3 ? [0xff, 0xff] : []); // null, from v3
  const payload = Buffer.concat([header, clientId, transactionalId, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host!, () => socket.write(Buffer.concat([size, payload])));
    let answer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      if (answer.length >= 4 && answer.length >= 4 + answer.readInt32BE(0)) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer.length >= 4 ? answer.readInt32BE(0) : null));
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

describe.each(singleNodeClusters().filter((c) => c.version !== 'external'))('broker facts on $name', (cluster) => {
  const kafka4 = cluster.version.startsWith('4.');
  let broker: BrokerConnection;
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('advertises the producer APIs at the versions the notes give', () => {
    const range = (key: number) => broker.brokerVersions.get(key);
    expect(range(Produce.key)).toEqual(kafka4 ? { min: 0, max: 13 } : { min: 0, max: 11 });
    // KIP-939's InitProducerId v6 is not offered by default, not even by 4.3.
    expect(range(InitProducerId.key)!.max).toBeLessThan(INIT_PRODUCER_ID_V6);
    expect(range(EndTxn.key)!.max).toBe(kafka4 ? 5 : 4);
    expect(range(TxnOffsetCommit.key)!.max).toBe(kafka4 ? 5 : 4);
  });

  it(kafka4 ? 'closes the connection on Produce v0-v2 although it advertises them (KIP-896), and answers v3' : 'answers Produce v0-v3', async () => {
    for (const version of [0, 1, 2]) expect(await rawEmptyProduce(cluster.bootstrap, version), `v${version}`).toEqual(kafka4 ? null : expect.any(Number));
    expect(await rawEmptyProduce(cluster.bootstrap, 3)).toEqual(expect.any(Number));
  });

  it('wraps sequences after int32 max, and takes any first sequence from a producer it has no state for', async () => {
    const topic = uniqueTopic('wrap');
    const { topicId } = await createTopic(broker, topic);
    let identity: { producerId: bigint; producerEpoch: number } | undefined;
    for (let attempt = 0; !identity; attempt++) {
      const { response } = await broker.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000 });
      if (response.errorCode === 0) identity = { producerId: response.producerId, producerEpoch: response.producerEpoch };
      else if (attempt > 100) throw new Error(`InitProducerId: error ${response.errorCode}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
    const produce = async (baseSequence: number, count: number): Promise<number> => {
      const records = encodeRecordBatch(
        Array.from({ length: count }, (_, i) => ({ key: null, value: `${baseSequence}+${i}` })),
        { ...identity!, baseSequence },
      );
      const { response } = await broker.request(Produce, { acks: -1, timeoutMs: 5_000, topicData: [{ name: topic, topicId, partitionData: [{ index: 0, records }] }] });
      return response.responses[0]!.partitionResponses[0]!.errorCode;
    };
    // New to this partition: any sequence is taken (here, one ending at int32 max).
    expect(await produce(MAX_SEQUENCE - 2, 3)).toBe(0);
    expect(await produce(1, 2)).toBe(OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(0, 2)).toBe(0);
    expect(await produce(2, 1)).toBe(0);
  });

  it(kafka4 ? 'finalizes transaction.version 2 by default' : 'has no transaction.version feature', () => {
    const level = broker.features.finalized.get('transaction.version');
    if (kafka4) expect(level).toEqual({ min: 2, max: 2 });
    else expect(level).toBeUndefined();
  });
});
