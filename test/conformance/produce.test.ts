/**
 * The bytes kafka-wire writes, proven by real brokers: every Produce version each broker
 * offers × every codec × acks 0/1/-1, read back through Fetch and checked field by field,
 * then checked again by Kafka's own DumpLogSegments reading the broker's log files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError } from '../../src/errors.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { Fetch, Produce } from '../../src/protocol/apis/index.js';
import { CODEC_ID, compress, decompress, type CompressionName } from '../../src/protocol/compression/index.js';
import { compressBatch, encodeRecordBatch, type RecordInput } from '../../src/protocol/records/index.js';
import { comparable, sampleRecords } from '../../src/conformance/records.js';
import { decode } from '../../src/decode/index.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { hasTools, kafkaTools, singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { commonVersions, createTopic, openBroker } from '../helpers/wire.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const ACKS = [0, 1, -1] as const;
const UNSUPPORTED_COMPRESSION_TYPE = 76;

interface Sent {
  version: number;
  codec: CompressionName;
  acks: number;
  records: RecordInput[];
}

describe.each(singleNodeClusters())('Produce against $name', (cluster) => {
  let broker: BrokerConnection;
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await broker?.close();
  });

  async function produce(version: number, topic: { name: string; id: string }, partition: number, batch: Buffer, acks: number) {
    const body = {
      acks,
      timeoutMs: 30_000,
      topicData: [{ name: topic.name, topicId: topic.id, partitionData: [{ index: partition, records: batch }] }],
    };
    if (acks === 0) {
      await broker.connection.send(Produce, version, body, { expectResponse: false });
      return undefined;
    }
    const response = await broker.connection.send(Produce, version, body);
    return response.responses[0]!.partitionResponses[0]!;
  }

  it('every Produce version x codec x acks reads back identical, and DumpLogSegments agrees', async () => {
    const name = uniqueTopic('produce');
    const { topicId } = await createTopic(broker, name);
    const topic = { name, id: topicId };
    const sent: Sent[] = [];
    let nextOffset = 0n;
    const now = Date.now();
    for (const version of commonVersions(broker, Produce)) {
      for (const codec of CODECS) {
        for (const acks of ACKS) {
          const records = sampleRecords(`v${version}-${codec}-a${acks}`, now + sent.length);
          const plain = encodeRecordBatch(records);
          const batch = await compressBatch(plain, CODEC_ID[codec], compress);
          if (codec === 'zstd' && version < 7) {
            // KIP-110: zstd needs Produce v7. With acks=0 the broker would just close the connection.
            if (acks === 0) continue;
            const res = await produce(version, topic, 0, batch, acks);
            expect(res!.errorCode, `v${version} zstd acks=${acks}`).toBe(UNSUPPORTED_COMPRESSION_TYPE);
            continue;
          }
          const res = await produce(version, topic, 0, batch, acks);
          if (res) {
            expect(res.errorCode, `v${version} ${codec} acks=${acks}: ${new BrokerError(res.errorCode).message}`).toBe(0);
            expect(res.baseOffset, `v${version} ${codec} acks=${acks}`).toBe(nextOffset);
          }
          nextOffset += BigInt(records.length);
          sent.push({ version, codec, acks, records });
        }
      }
    }

    const back = await readPartition(broker, { topic: name, topicId, partition: 0, untilOffset: nextOffset });
    expect(back.batches.length).toBe(sent.length);
    expect(back.records.length).toBe(Number(nextOffset));
    let offset = 0n;
    sent.forEach((s, i) => {
      const batch = back.batches[i]!;
      const what = `batch ${i}: v${s.version} ${s.codec} acks=${s.acks}`;
      expect(batch.attributes.compression, what).toBe(s.codec);
      expect(batch.baseOffset, what).toBe(offset);
      expect(batch.records.map((r) => comparable(r)), what).toEqual(s.records.map(comparable));
      offset += BigInt(s.records.length);
    });

    if (!hasTools(cluster) || cluster.brokers.length === 0) return;
    const tools = kafkaTools(cluster);
    const dump = await tools.dumpLogSegments(await tools.segmentFiles(cluster.brokers[0]!.id, name, 0), { deepIteration: true });
    expect(dump.batches.length).toBe(sent.length);
    dump.batches.forEach((b, i) => {
      const what = `dumped batch ${i}: v${sent[i]!.version} ${sent[i]!.codec} acks=${sent[i]!.acks}`;
      expect(b.fields['isvalid'], what).toBe('true');
      expect(b.fields['compresscodec']?.toLowerCase(), what).toBe(sent[i]!.codec);
      expect(Number(b.fields['count']), what).toBe(sent[i]!.records.length);
      expect(b.fields['magic'], what).toBe('2');
    });
  });

  it.skipIf(!hasTools(cluster))('decode reads batches that Kafka\'s own Java producer wrote', async () => {
    const name = uniqueTopic('java-written');
    const { topicId } = await createTopic(broker, name);
    const tools = kafkaTools(cluster);
    await tools.producerPerformance([
      ...['--topic', name, '--num-records', '50', '--record-size', '32', '--throughput', '-1'],
      ...['--producer-props', 'acks=all', 'linger.ms=50', 'compression.type=lz4', 'enable.idempotence=true'],
    ]);
    const version = broker.requireVersion(Fetch, 12);
    const res = await broker.connection.send(Fetch, version, {
      maxWaitMs: 100,
      minBytes: 1,
      topics: [{ topic: name, topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    });
    const raw = res.responses[0]!.partitions[0]!.records!;
    const decoded = await decode(raw, { as: 'batch', decompress });
    const batches = decoded.nodes.filter((n) => n.field.startsWith('batch'));
    expect(batches.length).toBeGreaterThan(0);
    let records = 0;
    for (const b of batches) {
      const field = (f: string) => b.children!.find((c) => c.field === f);
      expect(String(field('crc')!.value)).toMatch(/\(valid\)$/);
      expect(String(field('attributes')!.value)).toMatch(/lz4/);
      expect(field('producer_id')!.value).not.toBe(-1n); // idempotent: the broker gave it an id
      const section = b.children!.find((c) => c.field.startsWith('records (lz4'))!;
      const recs = section.children!.filter((c) => c.field.startsWith('record ['));
      expect(recs.length).toBe(field('records_count')!.value);
      for (const rec of recs) expect(rec.children!.find((c) => c.field === 'value')!.length).toBe(32);
      records += recs.length;
    }
    expect(records).toBe(50);
  });
});
