/**
 * KafkaJS 2.2.4: idempotent, acks=all, maxInFlightRequests 5. KafkaJS has no
 * linger: a user batches by passing arrays of messages to send(), so we send
 * chunks of `chunk` records with `concurrency` send() calls outstanding.
 * Latency is per send() call (every record of a call has the call's latency).
 * lz4 comes from the kafkajs-lz4 codec, registered as its README says.
 *
 * Options (`--opt kafkajs.KEY=VALUE`): chunk (1000), concurrency (5).
 */
import { performance } from 'node:perf_hooks';
import { benchRequire, keyAt, numberOption, packageVersion, pacedSends, runChild, type ClientRunner, type Phase, type PhaseOutcome, valueAt } from '../lib/child.js';

interface Message {
  key?: Buffer;
  value: Buffer;
}
interface KafkaJsProducer {
  connect(): Promise<void>;
  send(record: { topic: string; messages: Message[]; acks: number; compression: number }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface KafkaJsModule {
  Kafka: new (config: Record<string, unknown>) => { producer(config: Record<string, unknown>): KafkaJsProducer };
  CompressionTypes: { None: number; LZ4: number };
  CompressionCodecs: Record<number, unknown>;
  logLevel: { ERROR: number };
}

/** Records first..first+count-1 of the phase as KafkaJS messages (keyed ones go by murmur2, as Java's). */
function messagesOf(phase: Phase, first: number, count: number): Message[] {
  const messages = new Array<Message>(count);
  for (let i = 0; i < count; i++) {
    const key = keyAt(phase, first + i);
    messages[i] = key ? { key, value: valueAt(phase, first + i) } : { value: valueAt(phase, first + i) };
  }
  return messages;
}

await runChild(async (config) => {
  const kafkajs = benchRequire('kafkajs') as KafkaJsModule;
  const notes: string[] = [];
  let compression = kafkajs.CompressionTypes.None;
  if (config.compression === 'lz4') {
    const LZ4Codec = benchRequire('kafkajs-lz4') as new () => { codec: unknown };
    kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = new LZ4Codec().codec;
    compression = kafkajs.CompressionTypes.LZ4;
    notes.push(`lz4 via kafkajs-lz4 ${packageVersion('kafkajs-lz4')}`);
  }
  const chunk = numberOption(config, 'chunk', 1000);
  const concurrency = numberOption(config, 'concurrency', 5);
  const producerConfig = { idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false };

  const kafka = new kafkajs.Kafka({ clientId: config.clientId, brokers: config.bootstrap.split(','), logLevel: kafkajs.logLevel.ERROR });
  const producer = kafka.producer(producerConfig);

  const runner: ClientRunner = {
    version: packageVersion('kafkajs'),
    idempotent: true,
    latencyKind: 'per-send',
    recordsPerSend: chunk,
    settings: { ...producerConfig, acks: -1, chunk, concurrency, compression: config.compression, partitioner: 'default (keyed: murmur2, as Java; keyless: round-robin)' },
    notes,
    connect: () => producer.connect(),
    produce: async (phase) => {
      const { topic, records, latency } = phase;
      if (phase.rate > 0) {
        // Paced (latency scenarios): each slice's records in one send(), not awaited.
        runner.recordsPerSend = 1;
        return pacedSends(phase, 100_000, (first, count) => producer.send({ topic, messages: messagesOf(phase, first, count), acks: -1, compression }));
      }
      let next = 0;
      const outcome: PhaseOutcome = { acked: 0, failed: 0 };
      const worker = async (): Promise<void> => {
        while (next < records) {
          const count = Math.min(chunk, records - next);
          const messages = messagesOf(phase, next, count);
          next += count;
          const started = performance.now();
          try {
            await producer.send({ topic, messages, acks: -1, compression });
            outcome.acked += count;
          } catch (error) {
            outcome.failed += count;
            outcome.firstError ??= error instanceof Error ? error.message : String(error);
          }
          latency.add(performance.now() - started);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return outcome;
    },
    close: () => producer.disconnect(),
  };
  return runner;
});
