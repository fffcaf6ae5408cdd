/**
 * `npm run quickstart`: fetches Apache Kafka (first time only), starts a real broker on
 * loopback, shows what kafka-wire negotiates with it, produces a million small records
 * through the Producer with a progress bar, prints throughput and latency, checks the
 * count on the broker (from its end offsets), and stops the broker.
 *
 *   npm run quickstart -- [--kafka 4.3.1] [--records 1000000] [--size 100] [--partitions 6] [--compression lz4]
 *
 * To keep a broker running for your own experiments, use `npm run broker -- start`.
 */
import { parseArgs } from 'node:util';
import { startCluster } from './kafka/cluster.js';
import { ensureKafka } from './kafka/dist.js';
import { LATEST_KAFKA } from './kafka/versions.js';
import { apiVersionRows, formatApiVersions } from '../src/cli/broker-commands.js';
import { BrokerConnection } from '../src/net/broker-connection.js';
import { parseBootstrap } from '../src/net/bootstrap.js';
import { Producer } from '../src/producer/producer.js';
import type { ProducerOptions } from '../src/producer/types.js';
import { CreateTopics } from '../src/protocol/apis/index.js';
import { endOffset } from '../src/reader/partition-reader.js';

const { values } = parseArgs({
  options: {
    kafka: { type: 'string', default: LATEST_KAFKA },
    records: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '6' },
    compression: { type: 'string', default: 'none' },
  },
});
const version = values.kafka!;
const total = Number(values.records);
const size = Number(values.size);
const partitions = Number(values.partitions);
for (const [name, n] of [['records', total], ['size', size], ['partitions', partitions]] as const) {
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(values[name])}\nusage: npm run quickstart -- [--kafka VERSION] [--records N] [--size BYTES] [--partitions N] [--compression none|gzip|snappy|lz4|zstd]`);
    process.exit(2);
  }
}
const step = (text: string): void => void process.stdout.write(`\n== ${text}\n`);
const tty = process.stdout.isTTY;
/** Every this many records, one is timed from send to acknowledgement. */
const SAMPLE_EVERY = 10;

step(`Apache Kafka ${version}: resolving its jars from Maven Central (cached after the first run)`);
let t = Date.now();
await ensureKafka(version);
console.log(`ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);

step('starting a single KRaft broker on 127.0.0.1');
t = Date.now();
const cluster = await startCluster({ version, nodes: 1, name: 'quickstart' });
console.log(`broker up at ${cluster.bootstrap} in ${((Date.now() - t) / 1000).toFixed(1)} s`);

try {
  const [address] = parseBootstrap(cluster.bootstrap);
  const admin = await BrokerConnection.open({ ...address!, clientId: 'kafka-wire-quickstart' });
  try {
    step(`ApiVersions v${admin.apiVersionsVersion}: the versions kafka-wire negotiated`);
    process.stdout.write(formatApiVersions(apiVersionRows(admin).filter((row) => row.used !== null)));

    const topic = 'quickstart';
    await admin.request(CreateTopics, { topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1 }] });
    step(`producing ${total.toLocaleString('en')} records of ${size} bytes to ${topic} (${partitions} partitions, acks=all, compression ${values.compression})`);
    const producer = new Producer({ bootstrap: cluster.bootstrap, clientId: 'kafka-wire-quickstart', compression: values.compression as ProducerOptions['compression'] });
    await producer.connect();
    const value = Buffer.alloc(size, 'x');
    // Latency is timed for every SAMPLE_EVERY-th record (as Java's ProducerPerformance samples
    // too); the others share one callback, as an application's hot path would. A closure per
    // record, kept until its answer, cost more CPU and memory than the producer itself.
    const latencies = new Float64Array(Math.ceil(total / SAMPLE_EVERY));
    let done = 0;
    let failed = 0;
    let firstError: Error | undefined;
    let allDelivered!: () => void;
    const finished = new Promise<void>((resolve) => (allDelivered = resolve));
    const delivered = (err: Error | null): void => {
      if (err) {
        failed++;
        firstError ??= err;
      }
      if (++done === total) allDelivered();
    };
    const timed =
      (slot: number, sentAt: number) =>
      (err: Error | null): void => {
        latencies[slot] = performance.now() - sentAt;
        delivered(err);
      };
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const progress = setInterval(() => drawProgress(done, total, started), tty ? 100 : 2000);
    let i = 0;
    const pump = (): void => {
      while (i < total) {
        const index = i++;
        const callback = index % SAMPLE_EVERY === 0 ? timed(index / SAMPLE_EVERY, performance.now()) : delivered;
        if (!producer.produce({ topic, value }, callback)) {
          void producer.ready().then(pump);
          return;
        }
        // Let responses in now and then, as an application's event loop would.
        if (i % 20_000 === 0) return void setImmediate(pump);
      }
    };
    pump();
    await finished;
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(progress);
    drawProgress(done, total, started);
    process.stdout.write('\n');
    const metrics = producer.metrics();
    await producer.close();

    let stored = 0n;
    for (let p = 0; p < partitions; p++) stored += await endOffset(admin, topic, p);
    latencies.sort();
    const pct = (q: number): string => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
    step('summary');
    console.log(`delivered   ${(total - failed).toLocaleString('en')} records in ${seconds.toFixed(2)} s${failed ? ` (${failed} failed: ${firstError?.message})` : ''}`);
    console.log(`throughput  ${Math.round(total / seconds).toLocaleString('en')} records/s, ${((total * size) / seconds / 1e6).toFixed(1)} MB/s of values`);
    // A new user compares this with the README's benchmark too.
    console.log(`            from a cold start: this process and the broker just started, and both JIT-compile as they go; the README's benchmark warms both up first`);
    console.log(`latency     p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms (send to acknowledgement, every ${SAMPLE_EVERY}th record)`);
    // A new user compares this with the README's few milliseconds: say why it differs.
    console.log(`            at full speed that is mostly queueing: the buffer (32 MiB) holds records faster than the broker writes them; at a set rate see README "Benchmark"`);
    console.log(`client CPU  ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, ${((cpu.user + cpu.system) / total).toFixed(2)} µs per record; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    console.log(`requests    ${metrics.requestsSent.toLocaleString('en')} Produce requests, ${metrics.retries} retries, ${metrics.poolHits}/${metrics.poolHits + metrics.poolMisses} batch buffers reused from the pool`);
    console.log(`broker      end offsets of ${topic} add up to ${stored.toLocaleString('en')}: ${stored === BigInt(total - failed) ? 'every record is there' : 'MISMATCH'}`);
    if (stored !== BigInt(total - failed)) process.exitCode = 1;
  } finally {
    await admin.close();
  }
} finally {
  step('stopping the broker');
  await cluster.stop();
  console.log('done (for a broker that keeps running: npm run broker -- start)');
}

function drawProgress(done: number, total: number, started: number): void {
  const fraction = done / total;
  const rate = done / Math.max(0.001, (performance.now() - started) / 1000);
  const text = `${(fraction * 100).toFixed(1).padStart(5)}%  ${done.toLocaleString('en').padStart(9)} records  ${Math.round(rate).toLocaleString('en').padStart(9)} records/s`;
  if (tty) {
    const width = 30;
    const filled = Math.round(fraction * width);
    process.stdout.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
  } else {
    process.stdout.write(`${text}\n`);
  }
}
