/**
 * @confluentinc/kafka-javascript (librdkafka) through its node-rdkafka-style
 * Producer, the fast one: produce() queues a record in librdkafka and a
 * delivery report per record comes back; librdkafka polls for those on its
 * own background thread (setPollInBackground). Its KafkaJS-compatible API
 * wraps the same produce() with a promise per send.
 *
 * enable.idempotence=true, acks=all, linger.ms=5, librdkafka defaults
 * otherwise (batch.size 1 MB, queue.buffering.max.messages 100000: when the
 * queue is full produce() throws QUEUE_FULL and we wait for deliveries, as a
 * user would). Latency is per record, produce() to its delivery report (every
 * n-th record is timed).
 *
 * Options (`--opt confluent.KEY=VALUE`): any librdkafka property, e.g.
 * `--opt confluent.batch.size=65536`; and `window`: at most that many records
 * unacknowledged (default: no limit of ours, only librdkafka's queue).
 */
import { performance } from 'node:perf_hooks';
import { benchRequire, keyAt, numberOption, packageVersion, Pump, runChild, valueAt, type ClientRunner } from '../lib/child.js';

interface DeliveryReport {
  opaque?: unknown;
}
interface RdKafkaProducer {
  connect(metadataOptions: unknown, callback: (error: Error | null) => void): void;
  setPollInBackground(set: boolean): void;
  on(event: 'delivery-report', listener: (error: Error | null, report: DeliveryReport) => void): void;
  on(event: 'event.error', listener: (error: Error) => void): void;
  produce(topic: string, partition: number | null, value: Buffer, key: Buffer | null, timestamp: null, opaque?: unknown): boolean;
  flush(timeout: number, callback: (error: Error | null) => void): void;
  disconnect(callback: (error: Error | null) => void): void;
}
interface ConfluentModule {
  Producer: new (config: Record<string, unknown>) => RdKafkaProducer;
  CODES: { ERRORS: Record<string, number> };
  librdkafkaVersion: string;
}

await runChild(async (config) => {
  const kafka = benchRequire('@confluentinc/kafka-javascript') as ConfluentModule;
  const QUEUE_FULL = kafka.CODES.ERRORS['ERR__QUEUE_FULL'];
  const properties: Record<string, string | number | boolean> = {
    'bootstrap.servers': config.bootstrap,
    'client.id': config.clientId,
    'enable.idempotence': true,
    acks: 'all',
    'linger.ms': 5,
    'compression.codec': config.compression,
  };
  const window = numberOption(config, 'window', Number.MAX_SAFE_INTEGER);
  for (const [key, value] of Object.entries(config.options)) if (key !== 'window') properties[key] = value;
  const producer = new kafka.Producer({ ...properties, dr_cb: true });

  let onReport: (error: Error | null, report: DeliveryReport) => void = () => {};
  producer.on('delivery-report', (error, report) => onReport(error, report));
  let lastError: Error | undefined;
  producer.on('event.error', (error) => (lastError = error));

  const runner: ClientRunner = {
    version: `${packageVersion('@confluentinc/kafka-javascript')} (librdkafka ${kafka.librdkafkaVersion})`,
    idempotent: true,
    latencyKind: 'per-record',
    settings: { ...properties, partitioner: properties['partitioner'] ?? 'default (consistent_random: CRC32 of the key)', window: window === Number.MAX_SAFE_INTEGER ? 'none (librdkafka queue limits only)' : window, api: 'Producer.produce() + delivery reports, polled in background' },
    connect: () =>
      new Promise<void>((resolve, reject) =>
        producer.connect({}, (error) => {
          if (error) return reject(error);
          producer.setPollInBackground(true);
          resolve();
        }),
      ),
    produce: (phase) => {
      const pump = new Pump(phase.records, window, phase.rate);
      const { done } = pump;
      const { topic, payload, keys, pool, latency, sampleEvery } = phase;
      const plain = !keys && !pool;
      onReport = (error, report) => {
        if (typeof report?.opaque === 'number') latency.add(performance.now() - report.opaque);
        done(error ?? null);
      };
      return pump.run((index) => {
        try {
          const value = plain ? payload : valueAt(phase, index);
          const key = plain ? null : keyAt(phase, index);
          if (index % sampleEvery === 0) producer.produce(topic, null, value, key, null, performance.now());
          else producer.produce(topic, null, value, key, null);
          return true;
        } catch (error) {
          if ((error as { code?: number }).code === QUEUE_FULL) return false;
          throw error;
        }
      });
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => producer.flush(30_000, (error) => (error ? reject(error) : resolve())));
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
      if (lastError) runner.notes?.push(`librdkafka reported: ${lastError.message}`);
    },
    notes: [],
  };
  return runner;
});
