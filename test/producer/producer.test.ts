/**
 * The producer against real brokers: ordering and density of offsets under 100k
 * concurrent sends, Java-compatible partitions, ownership of record objects, bad input,
 * splitting what the broker refuses as too large, cancellation, and clean close.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  BrokerError,
  ConfigError,
  InvalidRecordError,
  InvalidTopicError,
  Producer,
  ProducerClosedError,
  RecordTooLargeError,
  UnknownTopicError,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from '../../src/index.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { kafkaTools, singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';
import { javaVectors } from './partitioners/java-vectors.js';

const clusters = singleNodeClusters();

describe.each(clusters)('Producer against $name', (cluster) => {
  let broker: BrokerConnection;
  const producers: Producer[] = [];
  const producer = (opts: Partial<ProducerOptions> = {}): Producer => {
    const p = new Producer({ bootstrap: cluster.bootstrap, clientId: 'kafka-wire-test', ...opts });
    producers.push(p);
    return p;
  };
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close({ timeoutMs: 5000 })));
    await broker?.close();
  });

  async function readAll(topic: string, partitions: number): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (let p = 0; p < partitions; p++) {
      const { records, batches } = await readPartition(broker, { topic, partition: p });
      out.set(p, records.map((r) => r.value?.toString() ?? '<null>'));
      // Idempotent by default: one producer id, and sequences that run on without a gap.
      let sequence = 0;
      for (const b of batches) {
        expect(b.producerId).toBe(batches[0]!.producerId);
        expect(b.producerId).toBeGreaterThanOrEqual(0n);
        expect(b.baseSequence).toBe(sequence);
        sequence += b.records.length;
      }
    }
    return out;
  }

  it('100k concurrent sends across 12 partitions resolve with dense, ordered offsets and read back identical', async () => {
    const topic = uniqueTopic('many');
    await createTopic(broker, topic, { partitions: 12 });
    const p = producer();
    const n = 100_000;
    const sends: Array<Promise<RecordMetadata>> = [];
    for (let i = 0; i < n; i++) {
      const record: ProducerRecord = i % 3 === 0 ? { topic, value: `v${i}` } : { topic, key: `key-${i % 500}`, value: `v${i}` };
      sends.push(p.send(record));
    }
    const results = await Promise.all(sends);
    const byPartition = new Map<number, Array<[bigint, string]>>();
    results.forEach((m, i) => {
      expect(m.topic).toBe(topic);
      let list = byPartition.get(m.partition);
      if (!list) byPartition.set(m.partition, (list = []));
      list.push([m.offset, `v${i}`]);
    });
    expect(byPartition.size).toBe(12);
    const back = await readAll(topic, 12);
    for (const [partition, list] of byPartition) {
      // In send order, each partition's offsets are 0, 1, 2, ... with no gap or swap.
      expect(list.map(([o]) => o)).toEqual(list.map((_, i) => BigInt(i)));
      expect(back.get(partition)).toEqual(list.map(([, v]) => v));
    }
    expect(p.metrics()).toMatchObject({ recordsSent: n, recordsFailed: 0, bufferedBytes: 0, requestsInFlight: 0 });
  });

  // Compression is asynchronous, so this once let a partition's later batch reach the broker
  // first; a leader that does not know the producer yet takes any sequence, and the earlier
  // batch's records were acknowledged but never written.
  it.each(['lz4', 'zstd'] as const)('1 KiB records compressed with %s, 5 requests in flight: every acknowledged record is on the broker, once, in order', async (compression) => {
    const topic = uniqueTopic(`big-${compression}`);
    await createTopic(broker, topic, { partitions: 6 });
    const p = producer({ compression });
    const n = 60_000;
    const acked = new Map<number, bigint[]>();
    const values = new Map<number, string[]>();
    let failed: Error | null = null;
    for (let i = 0; i < n; i++) {
      const value = `${i} `.padEnd(1024, 'x');
      const ok = p.produce({ topic, value }, (err, m) => {
        if (err) return void (failed ??= err);
        let list = acked.get(m!.partition);
        if (!list) acked.set(m!.partition, (list = []));
        list.push(m!.offset);
        let v = values.get(m!.partition);
        if (!v) values.set(m!.partition, (v = []));
        v.push(value);
      });
      if (!ok) await p.ready();
    }
    await p.flush();
    expect(failed).toBeNull();
    const back = await readAll(topic, 6);
    let total = 0;
    for (const [partition, offsets] of acked) {
      total += offsets.length;
      expect(offsets, `partition ${partition}: dense offsets in send order`).toEqual(offsets.map((_, i) => BigInt(i)));
      expect(back.get(partition), `partition ${partition}`).toEqual(values.get(partition));
    }
    expect(total).toBe(n);
  });

  it('keyed records land on the partition Java\'s partitioner picks', async () => {
    const p = producer({ lingerMs: 0 });
    for (const count of [7, 12]) {
      const topic = uniqueTopic(`keys${count}`);
      await createTopic(broker, topic, { partitions: count });
      const column = javaVectors.partitionCounts.indexOf(count);
      const keys = javaVectors.keys.filter((k) => k.hex.length <= 2000);
      const got = await Promise.all(keys.map((k) => p.send({ topic, key: Buffer.from(k.hex, 'hex'), value: k.name })));
      got.forEach((m, i) => expect(m.partition, keys[i]!.name).toBe(keys[i]!.partitions[column]));
      const text = keys.filter((k) => k.text !== undefined);
      const viaString = await Promise.all(text.map((k) => p.send({ topic, key: k.text!, value: k.name })));
      viaString.forEach((m, i) => expect(m.partition, `string ${text[i]!.name}`).toBe(text[i]!.partitions[column]));
    }
  });

  it('a record object reused and mutated after send(), or sent to two producers, arrives as it was at send()', async () => {
    const topic = uniqueTopic('owned');
    await createTopic(broker, topic);
    const a = producer({ lingerMs: 50 });
    const b = producer({ lingerMs: 20 });
    const value = Buffer.from('original-value');
    const record: ProducerRecord = { topic, partition: 0, key: 'k', value, headers: [{ key: 'h', value: 'hv' }] };
    const first = a.send(record);
    const shared = Promise.all([a.send(record), b.send(record)]);
    value.write('MUTATED-VALUE!');
    record.key = 'changed';
    (record.headers as Array<{ key: string; value: string }>)[0]!.value = 'changed';
    record.value = 'replaced';
    await Promise.all([first, shared]);
    const { records } = await readPartition(broker, { topic, partition: 0 });
    expect(records).toHaveLength(3);
    for (const r of records) {
      expect(r.key?.toString()).toBe('k');
      expect(r.value?.toString()).toBe('original-value');
      expect(r.headers.map((h) => [h.key, h.value?.toString()])).toEqual([['h', 'hv']]);
    }
  });

  it('records that wait for memory arrive as they were at send(): bytes copied, strings kept as they are', async () => {
    const topic = uniqueTopic('parked');
    await createTopic(broker, topic);
    // A budget of four 16 KiB batches for 400 KiB of records: most sends wait for memory.
    const p = producer({ bufferMemory: 64 * 1024, waitingMemory: 1024 * 1024, lingerMs: 20 });
    const texts = Array.from({ length: 400 }, (_, i) => `{"n":${i},"name":"naïve — 日本語 😀","pad":"${'x'.repeat(900)}"}`);
    const bytes = texts.map((t) => Buffer.from(t));
    const sends = texts.map((text, i) =>
      i % 2 === 0
        ? p.send({ topic, partition: 0, key: `k-${i}-é`, value: text, headers: { h: `hv-${i}-ü` } })
        : p.send({ topic, partition: 0, key: Buffer.from(`k-${i}-é`), value: bytes[i]!, headers: [{ key: 'h', value: Buffer.from(`hv-${i}-ü`) }] }),
    );
    expect(p.metrics().waitingBytes).toBeGreaterThan(0);
    for (const b of bytes) b.fill(0x21); // the caller reuses its buffers once send() returned
    await Promise.all(sends);
    const { records } = await readPartition(broker, { topic, partition: 0 });
    expect(records.map((r) => [r.key?.toString(), r.value?.toString(), r.headers.map((h) => [h.key, h.value?.toString()])])).toEqual(
      texts.map((text, i) => [`k-${i}-é`, text, [['h', `hv-${i}-ü`]]]),
    );
  });

  it('bad input gets a typed error naming the problem, and no other record is lost', async () => {
    const topic = uniqueTopic('bad');
    await createTopic(broker, topic, { partitions: 2 });
    expect(() => new Producer({ bootstrap: cluster.bootstrap, acks: 2 as never })).toThrow(ConfigError);
    expect(() => new Producer({ bootstrap: cluster.bootstrap, lingerMs: -1 })).toThrow(/lingerMs must be an integer/);
    expect(() => new Producer({ bootstrap: cluster.bootstrap, compresion: 'gzip' } as never)).toThrow(/unknown producer option "compresion"/);
    expect(() => new Producer({ bootstrap: 'nohostport' })).toThrow(ConfigError);
    expect(() => new Producer({ bootstrap: cluster.bootstrap, adaptivePartitioning: 'yes' as never })).toThrow(/adaptivePartitioning must be a boolean/);

    const p = producer({ maxBlockMs: 2000, allowAutoTopicCreation: false, maxRequestSize: 100_000 });
    const good = Array.from({ length: 50 }, (_, i) => p.send({ topic, value: `ok-${i}` }));
    await expect(p.send({ topic, value: 42 as never })).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(p.send({ topic, key: { a: 1 } as never, value: 'x' })).rejects.toThrow(/record key must be a string, Buffer/);
    await expect(p.send({ topic, partition: -1, value: 'x' })).rejects.toThrow(/non-negative integer/);
    await expect(p.send({ topic, partition: 2, value: 'x' })).rejects.toThrow(/partitions 0..1/);
    await expect(p.send({ topic, value: Buffer.alloc(200_000) })).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(p.send({ topic: '', value: 'x' })).rejects.toBeInstanceOf(InvalidTopicError);
    const missing = uniqueTopic('missing');
    const err = await p.send({ topic: missing, value: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownTopicError);
    expect((err as UnknownTopicError).topic).toBe(missing);
    const delivered = await Promise.all(good);
    expect(delivered).toHaveLength(50);
    await p.close();
    await expect(p.send({ topic, value: 'late' })).rejects.toBeInstanceOf(ProducerClosedError);
    expect(() => p.produce({ topic, value: 'late' })).toThrow(ProducerClosedError);
  });

  it('acks=0 and acks=1 deliver too', async () => {
    const topic = uniqueTopic('acks');
    await createTopic(broker, topic);
    const zero = producer({ acks: 0 });
    const one = producer({ acks: 1 });
    const z = await Promise.all(Array.from({ length: 100 }, (_, i) => zero.send({ topic, value: `zero-${i}` })));
    expect(z.every((m) => m.offset === -1n)).toBe(true);
    await zero.flush();
    const o = await Promise.all(Array.from({ length: 100 }, (_, i) => one.send({ topic, value: `one-${i}` })));
    expect(o.map((m) => m.offset)).toEqual(o.map((_, i) => o[0]!.offset + BigInt(i)));
    const { records } = await readPartition(broker, { topic, partition: 0 });
    expect(records.filter((r) => r.value!.toString().startsWith('zero-'))).toHaveLength(100);
  });

  it('a batch the broker refuses as MESSAGE_TOO_LARGE is split until it fits, in order', async () => {
    const topic = uniqueTopic('split');
    await createTopic(broker, topic, { configs: { 'max.message.bytes': '3000' } });
    const p = producer({ lingerMs: 100, batchSize: 64 * 1024 });
    const sends = Array.from({ length: 200 }, (_, i) => p.send({ topic, value: `${i}`.padStart(100, '.') }));
    const results = await Promise.all(sends);
    expect(results.map((m) => m.offset)).toEqual(results.map((_, i) => BigInt(i)));
    expect(p.metrics().retries).toBeGreaterThan(0);
    const { records, batches } = await readPartition(broker, { topic, partition: 0 });
    expect(records.map((r) => r.value!.toString().replace(/^\.+/, ''))).toEqual(results.map((_, i) => `${i}`));
    for (const b of batches) expect(b.batchLength + 12).toBeLessThanOrEqual(3000);
    // A record alone over the topic's limit: the error names the partition and what was sent.
    const alone = await p.send({ topic, value: 'x'.repeat(4000) }).catch((e: unknown) => e);
    expect(alone).toBeInstanceOf(BrokerError);
    expect((alone as Error).message).toMatch(new RegExp(`^MESSAGE_TOO_LARGE \\(10\\) in Produce v\\d+ from 127\\.0\\.0\\.1:\\d+: .*: ${topic}-0, a batch of 40\\d\\d bytes with 1 record`));
  });

  it.each(['gzip', 'lz4', 'zstd', 'snappy'] as const)(
    'a %s batch refused as MESSAGE_TOO_LARGE is read back from its compressed bytes and split, in order',
    async (compression) => {
      // The producer gives a compressed batch's uncompressed buffer back once compressed, so a
      // split has to decompress what it sent. Random values: compression cannot make them fit.
      const topic = uniqueTopic(`split-${compression}`);
      await createTopic(broker, topic, { configs: { 'max.message.bytes': '3000' } });
      const p = producer({ lingerMs: 100, batchSize: 64 * 1024, compression });
      const values = Array.from({ length: 120 }, (_, i) => Buffer.concat([Buffer.from(`${i}:`), randomBytes(100)]));
      const results = await Promise.all(values.map((value) => p.send({ topic, value })));
      expect(results.map((m) => m.offset)).toEqual(results.map((_, i) => BigInt(i)));
      expect(p.metrics().retries).toBeGreaterThan(0);
      expect(p.metrics().bufferedBytes).toBe(0);
      const { records, batches } = await readPartition(broker, { topic, partition: 0 });
      expect(records.map((r) => r.value)).toEqual(values);
      for (const b of batches) expect(b.batchLength + 12).toBeLessThanOrEqual(3000);
      expect(new Set(batches.map((b) => b.attributes.compression))).toEqual(new Set([compression]));
      await p.close();
    },
  );

  it('an AbortSignal cancels a record in an unsent batch, and says when it is too late', async () => {
    const topic = uniqueTopic('abort');
    await createTopic(broker, topic);
    const p = producer({ lingerMs: 500 });
    const controller = new AbortController();
    const kept = p.send({ topic, value: 'kept-1' });
    const cancelled = p.send({ topic, value: 'cancelled' }, { signal: controller.signal });
    const kept2 = p.send({ topic, value: 'kept-2' });
    controller.abort();
    await expect(cancelled).rejects.toBeInstanceOf(AbortedError);
    await Promise.all([kept, kept2]);
    const late = new AbortController();
    const done = await p.send({ topic, value: 'delivered' }, { signal: late.signal });
    late.abort();
    expect(done.offset).toBe(2n);
    const { records } = await readPartition(broker, { topic, partition: 0 });
    expect(records.map((r) => r.value!.toString())).toEqual(['kept-1', 'kept-2', 'delivered']);
  });

  it('after close() no socket, timer or pending promise of the producer is left', async () => {
    const topic = uniqueTopic('close');
    await createTopic(broker, topic);
    const count = (): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    const before = count();
    const p = new Producer({ bootstrap: cluster.bootstrap, lingerMs: 1000 });
    const settled: string[] = [];
    const sends = Array.from({ length: 1000 }, (_, i) =>
      p.send({ topic, value: `c${i}` }).then(
        () => settled.push('ok'),
        () => settled.push('failed'),
      ),
    );
    await p.close();
    await Promise.all(sends);
    expect(settled.filter((s) => s === 'ok')).toHaveLength(1000);
    await new Promise((r) => setTimeout(r, 50));
    const after = count();
    expect(after['TCPSocketWrap'] ?? 0).toBeLessThanOrEqual(before['TCPSocketWrap'] ?? 0);
    expect(after['Timeout'] ?? 0).toBeLessThanOrEqual(before['Timeout'] ?? 0);
    expect(after['Immediate'] ?? 0).toBeLessThanOrEqual(before['Immediate'] ?? 0);
  });
});

describe.each(clusters.filter((c) => c.toolsVersion !== null))('Producer and a topic that grows, on $name', (cluster) => {
  it('picks up new partitions: an explicit new partition waits for metadata, keyless records spread to it', async () => {
    const topic = uniqueTopic('grow');
    const broker = await openBroker(cluster);
    await createTopic(broker, topic, { partitions: 2 });
    const p = new Producer({ bootstrap: cluster.bootstrap, metadataMaxAgeMs: 500, batchSize: 1024, lingerMs: 1 });
    try {
      await p.send({ topic, value: 'before' });
      await kafkaTools(cluster).topics(['--alter', '--topic', topic, '--partitions', '4']);
      const m = await p.send({ topic, partition: 3, value: 'to-new-partition' });
      expect(m.partition).toBe(3);
      await new Promise((r) => setTimeout(r, 1000));
      const seen = new Set<number>();
      for (let i = 0; i < 400; i++) seen.add((await p.send({ topic, value: Buffer.alloc(200, i) })).partition);
      expect(seen.has(2) || seen.has(3)).toBe(true);
    } finally {
      await p.close();
      await broker.close();
    }
  });
});
