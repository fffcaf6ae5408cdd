/**
 * @platformatic/kafka: idempotent (which makes it keep one request in flight
 * per broker), acks=all, lz4 through its own WASM codec. Like KafkaJS it has
 * no linger for send(): we send chunks of `chunk` records with `concurrency`
 * send() calls outstanding. Latency is per send() call. Keyless records go
 * round-robin over the partitions (its default).
 *
 * Its 2.x releases declare Node >= 22.22; on Node 20 the only missing piece
 * we met is Promise.withResolvers (ES2024), which we polyfill below.
 *
 * Options (`--opt platformatic.KEY=VALUE`): chunk (5000), concurrency (5).
 * Chunks of 5000 did best in a short tuning pass (1000: lower, 20000: no
 * better and twice the memory); with one request in flight bigger requests pay.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { benchRequire, keyAt, numberOption, packageVersion, pacedSends, runChild, type ClientRunner, type Phase, type PhaseOutcome, valueAt } from '../lib/child.js';

interface Message {
  topic: string;
  key?: Buffer;
  value: Buffer;
}
interface PlatformaticProducer {
  send(options: { messages: Message[] }): Promise<unknown>;
  close(force?: boolean): Promise<void>;
  metadata(options: { topics: string[] }): Promise<unknown>;
}
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => PlatformaticProducer;
}

const notes: string[] = [];
const promiseStatics = Promise as unknown as { withResolvers?: unknown };
if (typeof promiseStatics.withResolvers !== 'function') {
  promiseStatics.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
  notes.push(`Promise.withResolvers polyfilled: Node ${process.version} is below the package's engines range`);
}

/** Records first..first+count-1 of the phase as its messages (keyed ones go by murmur2, its default partitioner). */
function messagesOf(phase: Phase, first: number, count: number): Message[] {
  const { topic } = phase;
  const messages = new Array<Message>(count);
  for (let i = 0; i < count; i++) {
    const key = keyAt(phase, first + i);
    messages[i] = key ? { topic, key, value: valueAt(phase, first + i) } : { topic, value: valueAt(phase, first + i) };
  }
  return messages;
}

await runChild(async (config) => {
  // An ESM-only package: import it by path, resolved from bench/node_modules.
  const entry = pathToFileURL(benchRequire.resolve('@platformatic/kafka')).href;
  const { Producer } = (await import(entry)) as PlatformaticModule;
  const chunk = numberOption(config, 'chunk', 5000);
  const concurrency = numberOption(config, 'concurrency', 5);
  const options: Record<string, unknown> = {
    clientId: config.clientId,
    bootstrapBrokers: config.bootstrap.split(','),
    idempotent: true,
    acks: -1,
    compression: config.compression,
    autocreateTopics: false,
  };
  const producer = new Producer({ ...options });

  const runner: ClientRunner = {
    version: packageVersion('@platformatic/kafka'),
    idempotent: true,
    latencyKind: 'per-send',
    recordsPerSend: chunk,
    settings: { ...options, chunk, concurrency, maxInflights: '1 (forced by idempotent)', partitioner: 'default (keyed: murmur2; keyless: round-robin)' },
    notes,
    connect: async () => {
      await producer.metadata({ topics: [...new Set([config.warmupTopic, config.topic])] });
    },
    produce: async (phase) => {
      const { records, latency } = phase;
      if (phase.rate > 0) {
        // Paced (latency scenarios): each slice's records in one send(), not awaited.
        runner.recordsPerSend = 1;
        return pacedSends(phase, 100_000, (first, count) => producer.send({ messages: messagesOf(phase, first, count) }));
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
            await producer.send({ messages });
            outcome.acked += count;
          } catch (error) {
            outcome.failed += count;
            outcome.firstError ??= error instanceof Error ? `${error.message}${error.cause ? ` (${String(error.cause)})` : ''}` : String(error);
          }
          latency.add(performance.now() - started);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return outcome;
    },
    close: () => producer.close(),
  };
  return runner;
});
