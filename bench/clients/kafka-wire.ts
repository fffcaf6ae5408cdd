/**
 * kafka-wire, this project's producer, through its fast path: produce() with
 * one callback per record, no promise per record. Latency is per record, from
 * produce() to its callback (every n-th record is timed).
 *
 * Options (`--opt kafka-wire.KEY=VALUE`): lingerMs (5), batchSize (16384),
 * idempotent (true), maxInFlight, maxBatchSize and maxRequestSize (client defaults), window (records in flight; default
 * 100,000 or what fits 32 MiB, whichever is less).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { benchDir, numberOption, Pump, runChild, type ClientRunner } from '../lib/child.js';
import { keyIndex } from '../lib/protocol.js';

/** The part of the Producer contract this runner uses. */
interface Producer {
  connect(): Promise<void>;
  produce(
    record: { topic: string; value: Buffer; key?: Buffer | null },
    callback?: (error: Error | null, metadata: unknown) => void,
  ): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  metrics(): unknown;
}
type ProducerConstructor = new (options: Record<string, unknown>) => Producer;

await runChild(async (config) => {
  // bench/run.ts hands over the built package (bench/.bin/kafka-wire/index.js, compiled with
  // tsconfig.build.json as `npm run build` does) and runs this file compiled, under plain node.
  // Run by hand under tsx without an entry, it loads src/. A computed specifier either way, so the
  // root typecheck does not depend on what the entry exports; a missing export fails here, at run time.
  const repoRoot = path.dirname(benchDir());
  const entry = config.entry ?? path.join(repoRoot, 'src', 'index.js');
  const module = (await import(pathToFileURL(entry).href)) as { Producer?: ProducerConstructor };
  if (typeof module.Producer !== 'function') throw new Error(`${entry} exports no Producer`);

  const options: Record<string, unknown> = {
    bootstrap: config.bootstrap,
    clientId: config.clientId,
    acks: -1,
    compression: config.compression,
    lingerMs: numberOption(config, 'lingerMs', 5),
    batchSize: numberOption(config, 'batchSize', 16384),
    // Its default with acks=all; explicit, so a producer that cannot be idempotent fails instead of quietly not being it.
    idempotent: config.options['idempotent'] !== 'false',
  };
  if (config.options['maxInFlight'] !== undefined) options['maxInFlight'] = numberOption(config, 'maxInFlight', 5);
  if (config.options['maxBatchSize'] !== undefined) options['maxBatchSize'] = numberOption(config, 'maxBatchSize', 1047552);
  if (config.options['maxRequestSize'] !== undefined) options['maxRequestSize'] = numberOption(config, 'maxRequestSize', 1048576);
  // Records unacknowledged at most: librdkafka's default queue limit (100,000), and no more than
  // fit the default bufferMemory (32 MiB, counted with ~64 bytes of batch overhead per record).
  // Past its buffer kafka-wire parks records in a waiting queue, which costs CPU a user with a
  // bounded producer would not pay; `--opt kafka-wire.window=N` explores that.
  const window = numberOption(config, 'window', Math.min(100_000, Math.floor((32 * 1024 * 1024) / (config.recordSize + 64))));
  const producer = new module.Producer(options);

  const runner: ClientRunner = {
    version: (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
    idempotent: options['idempotent'] === true,
    latencyKind: 'per-record',
    settings: { ...options, window, api: 'produce(record, callback)', entry: path.relative(repoRoot, entry) },
    connect: () => producer.connect(),
    produce: (phase) => {
      const pump = new Pump(phase.records, window, phase.rate);
      const { done } = pump;
      const { topic, payload, keys, pool, latency, sampleEvery } = phase;
      return pump.run((index) => {
        const record = pool
          ? { topic, key: pool.keys[index % pool.keys.length]!, value: pool.values[index % pool.values.length]! }
          : keys
            ? { topic, key: keys[keyIndex(index, keys.length)]!, value: payload }
            : { topic, value: payload };
        if (index % sampleEvery === 0) {
          const started = performance.now();
          producer.produce(record, (error) => {
            latency.add(performance.now() - started);
            done(error);
          });
        } else {
          producer.produce(record, done);
        }
        return true;
      });
    },
    close: async () => {
      await producer.flush();
      runner.settings['metrics'] = producer.metrics();
      await producer.close();
    },
  };
  return runner;
});
