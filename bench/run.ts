/**
 * End-to-end producer benchmark: kafka-wire against KafkaJS,
 * @platformatic/kafka, @confluentinc/kafka-javascript (librdkafka), franz-go,
 * Sarama, Java's KafkaProducer (a runner of our own) and Kafka's Java
 * ProducerPerformance, on one local 1-node Kafka cluster.
 *
 *   npm run bench                                   (everything: bench/setup.sh, both scenarios)
 *   npm run bench -- --clients kafkajs,java --records 100000 --scenario small
 *
 * Options:
 *   --clients a,b,...   kafka-wire, kafkajs, platformatic, confluent, franz-go, sarama, java-producer, java (default: all)
 *   --scenario NAME     small (100-byte records, no compression), lz4 (1 KiB records, lz4), all (default: these two),
 *                       partitions (keyed 100-byte records, 100,000 distinct keys, 1,000 partitions; not in all;
 *                       every runner but Java's ProducerPerformance, which sends no keys),
 *                       realistic, realistic-zstd (~1.1 KiB JSON order events keyed by customer, from a seed,
 *                       lz4 or zstd; not in all),
 *                       latency (100-byte records offered at --rate records/s, p50/p99/p99.9 per record; not in all)
 *   --records N         records per client for every chosen scenario (defaults: small 1000000, lz4 200000,
 *                       partitions 500000, realistic 200000)
 *   --warmup N          warm-up records per client, not counted (default 10000; 0 for none)
 *   --partitions N      partitions of each run's topic (default 6; the partitions scenario 1000)
 *   --sample-every N    per-record clients time every N-th record (default 10)
 *   --kafka VERSION     broker version (default 4.3.1)
 *   --opt C.KEY=VALUE   client tuning, repeatable: e.g. kafkajs.chunk=5000, confluent.batch.size=65536
 *   --repeat N          run every client N times (interleaved) and report the median run by records/s (default 1)
 *   --pause-ms N        idle time between client runs, for the broker to settle (default 2000)
 *   --out DIR           where results go (default bench/results)
 *   --no-setup          do not run bench/setup.sh first
 *   --no-build          do not compile kafka-wire (tsconfig.build.json) and the Node runners into bench/.bin/ first
 *   --no-broker-warmup  skip the unmeasured run that warms the broker up before each scenario's first round
 *   --bootstrap H:P     use a broker already running on 127.0.0.1 (its version given by --kafka) instead of starting one
 *   --rate N[,N...]     the latency scenario's offered rates, records/s (default 10000); one table per rate
 *   --nodes 1|3         brokers of the cluster started (default 1); with 3, topics get replication factor 3, min.insync.replicas 2
 *   --replication-factor N, --min-insync N
 *                       replication of each run's topics (defaults: 1 / broker default on 1 node, 3 / 2 on 3 nodes;
 *                       give them with --bootstrap of a 3-node cluster)
 *
 * Each client runs in its own process (its own CPU and RSS) against a fresh
 * topic; delivered records are counted from the broker's end offsets. Node
 * runners run compiled (bench/.bin/node/) under plain node, kafka-wire from its
 * build output (bench/.bin/kafka-wire/, tsconfig.build.json as `npm run build`),
 * so no TypeScript loader is in any measured process; the Go runners are
 * binaries built by bench/setup.sh (bench/.bin/franz-go, bench/.bin/sarama); the Java
 * runner (bench/clients/java/JavaProducer.java) is compiled with javac against the run's
 * Kafka jars into bench/.bin/java-producer/ when its class is missing or older than its
 * source, and runs on the JVM with ProducerPerformance's flags.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { startCluster } from '../scripts/kafka/cluster.js';
import { waitUntilServed } from '../src/conformance/admin.js';
import { BrokerConnection } from '../src/net/broker-connection.js';
import { Metadata } from '../src/protocol/apis/index.js';
import { createTopic, describeTopic, topics, type ToolTarget } from '../scripts/kafka/tools.js';
import { javaBinary } from '../scripts/kafka/java.js';
import { ensureKafka } from '../scripts/kafka/dist.js';
import { compileJavaRunner, endOffsets, javaPrefix, PERF_JVM_OPTIONS, producerPerformance, supportsWarmup } from './lib/java.js';
import { killLiveGroups, runMeasured } from './lib/measure.js';
import { RESULT_PREFIX, isCompression, type ChildConfig, type ChildResult, type Compression } from './lib/protocol.js';
import { realisticRecords, writeRecordsFile } from './lib/realistic.js';
import { hostProbeMs } from './lib/host-speed.js';
import { writeMarkdown, writeScenario, type ClientRun, type ScenarioResult } from './lib/report.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');

interface ClientSpec {
  id: string;
  label: string;
  /**
   * 'node': bench/clients/<runner>.ts, run compiled from bench/.bin/node/; 'go': the binary bench/.bin/<runner>;
   * 'java-runner': bench/clients/java/<runner>.java, compiled into bench/.bin/<id>/ and run with main class <runner>;
   * 'java': ProducerPerformance.
   */
  kind: 'node' | 'go' | 'java-runner' | 'java';
  runner?: string;
  /** Why it cannot run, checked before spawning. */
  unavailable?: () => string | undefined;
  /** Its runner sends keys (keyed scenarios); the others are skipped there. */
  keyed?: boolean;
  /** false: its runner cannot send at a fixed rate, so it is skipped in the latency scenario. */
  paced?: boolean;
  /** Why it cannot compress with this codec on this machine (skipped then), if it cannot. */
  cannotCompress?: (compression: Compression) => string | undefined;
}

const benchModule = (name: string): string => path.join(BENCH_DIR, 'node_modules', name, 'package.json');
const notInstalled = (name: string) => (): string | undefined =>
  existsSync(benchModule(name)) ? undefined : `skipped: ${name} not installed (run bench/setup.sh)`;

const BIN_DIR = path.join(BENCH_DIR, '.bin');
/** Where kafka-wire is built for the benchmark: tsconfig.build.json's output, as `npm run build` makes dist/. */
const KAFKA_WIRE_BUILD = path.join(BIN_DIR, 'kafka-wire');
/** What bench/.bin/kafka-wire was built from (a run with --no-build reports that, not the checkout it runs in). */
const BUILT_FROM = path.join(KAFKA_WIRE_BUILD, 'built-from.json');
const goNotBuilt = (binary: string) => (): string | undefined =>
  existsSync(path.join(BIN_DIR, binary)) ? undefined : `skipped: bench/.bin/${binary} not built by bench/setup.sh (no Go toolchain, or the build failed: bench/.bin/${binary}.build.log)`;

/** Why a Java runner could not be compiled (buildJavaRunners), by client id: it is then skipped. */
const javaRunnerProblems = new Map<string, string>();
const javaNotCompiled = (id: string) => (): string | undefined => javaRunnerProblems.get(id);

const CLIENTS: readonly ClientSpec[] = [
  { id: 'kafka-wire', label: 'kafka-wire', kind: 'node', runner: 'kafka-wire.ts', keyed: true },
  {
    id: 'kafkajs',
    label: 'KafkaJS',
    kind: 'node',
    runner: 'kafkajs.ts',
    unavailable: notInstalled('kafkajs'),
    keyed: true,
    cannotCompress: (c) => (c === 'zstd' ? 'skipped: KafkaJS has no zstd codec built in (a separate native package)' : undefined),
  },
  {
    id: 'platformatic',
    label: '@platformatic/kafka',
    kind: 'node',
    runner: 'platformatic.ts',
    unavailable: notInstalled('@platformatic/kafka'),
    keyed: true,
    // Its zstd is node:zlib's, which Node 20 does not have (22.15 and later).
    cannotCompress: (c) => (c === 'zstd' && !('zstdCompressSync' in zlib) ? `skipped: @platformatic/kafka compresses zstd with node:zlib, which Node ${process.version} lacks` : undefined),
  },
  {
    id: 'confluent',
    label: '@confluentinc/kafka-javascript',
    kind: 'node',
    runner: 'confluent.ts',
    keyed: true,
    unavailable: () =>
      existsSync(path.join(BENCH_DIR, 'node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node'))
        ? undefined
        : 'skipped: not installed: its librdkafka build failed or was not run (see bench/.setup.log)',
  },
  { id: 'franz-go', label: 'franz-go', kind: 'go', runner: 'franz-go', unavailable: goNotBuilt('franz-go'), keyed: true },
  { id: 'sarama', label: 'Sarama', kind: 'go', runner: 'sarama', unavailable: goNotBuilt('sarama'), keyed: true },
  { id: 'java-producer', label: 'Java KafkaProducer', kind: 'java-runner', runner: 'JavaProducer', unavailable: javaNotCompiled('java-producer'), keyed: true },
  { id: 'java', label: 'Java ProducerPerformance', kind: 'java' },
];

const ALIASES: Record<string, string> = {
  wire: 'kafka-wire',
  librdkafka: 'confluent',
  rdkafka: 'confluent',
  'platformatic-kafka': 'platformatic',
  franz: 'franz-go',
  franzgo: 'franz-go',
  kgo: 'franz-go',
  'ibm-sarama': 'sarama',
};

interface Scenario {
  name: string;
  title: string;
  recordSize: number;
  compression: Compression;
  defaultRecords: number;
  /** Partitions of its topics unless --partitions says otherwise (default 6). */
  partitions?: number;
  /** Records carry one of this many distinct keys (see bench/lib/protocol.ts keyIndex). */
  keys?: number;
  /**
   * Records from bench/lib/realistic.ts (varied JSON values with keys, the same bytes for
   * every client); recordSize is then their average value size, worked out at run time.
   */
  realistic?: boolean;
  /** Left out of `--scenario all`. */
  optIn?: boolean;
  /** Latency scenarios: the measured phase is offered at this many records/s (from --rate). */
  rate?: number;
}

/** The realistic scenarios' pool: this many records from this seed, sent round and round. */
const REALISTIC_SEED = 42;
const REALISTIC_POOL = 10_000;
const REALISTIC_KEYS = 100_000;

const SCENARIOS: readonly Scenario[] = [
  { name: 'small', title: '100-byte records, no compression', recordSize: 100, compression: 'none', defaultRecords: 1_000_000 },
  { name: 'lz4', title: '1 KiB records, lz4', recordSize: 1024, compression: 'lz4', defaultRecords: 200_000 },
  {
    name: 'partitions',
    title: 'keyed 100-byte records over 1,000 partitions, no compression',
    recordSize: 100,
    compression: 'none',
    defaultRecords: 500_000,
    partitions: 1000,
    keys: 100_000,
    optIn: true,
  },
  { name: 'realistic', title: '~1.1 KiB JSON order events keyed by customer, lz4', recordSize: 1024, compression: 'lz4', defaultRecords: 200_000, realistic: true, optIn: true },
  {
    name: 'latency',
    title: '100-byte records at a fixed offered rate, no compression',
    recordSize: 100,
    compression: 'none',
    // Set per rate: 20 s of records (see latencyScenarios).
    defaultRecords: 0,
    optIn: true,
  },
  {
    name: 'realistic-zstd',
    title: '~1.1 KiB JSON order events keyed by customer, zstd',
    recordSize: 1024,
    compression: 'zstd',
    defaultRecords: 200_000,
    realistic: true,
    optIn: true,
  },
];

/**
 * Writes the realistic pool to bench/.bin once per run of the benchmark, and gives the
 * scenario its average value size; the same seed gives the same file every time.
 */
function withRealisticRecords(scenario: Scenario): Scenario & { recordsFile?: string } {
  if (!scenario.realistic) return scenario;
  const recordsFile = path.join(BIN_DIR, `realistic-${REALISTIC_SEED}-${REALISTIC_POOL}.bin`);
  const records = realisticRecords(REALISTIC_SEED, REALISTIC_POOL, REALISTIC_KEYS);
  mkdirSync(BIN_DIR, { recursive: true });
  writeRecordsFile(recordsFile, records);
  const average = Math.round(records.reduce((sum, r) => sum + r.value.length, 0) / records.length);
  return { ...scenario, recordSize: average, recordsFile };
}

/** Seconds of records a latency scenario sends by default (--records overrides). */
const LATENCY_SECONDS = 20;

/** The latency scenario, once per offered rate: its own name, title and results file. */
function latencyScenarios(rates: readonly number[]): Scenario[] {
  const base = SCENARIOS.find((s) => s.name === 'latency')!;
  return rates.map((rate) => ({
    ...base,
    name: `latency-${rate}`,
    title: `100-byte records offered at ${rate.toLocaleString('en-US')} records/s, no compression`,
    defaultRecords: rate * LATENCY_SECONDS,
    rate,
  }));
}

/** Partitions of a scenario's topics: --partitions, else the scenario's own, else 6. */
function partitionsOf(scenario: Scenario, options: Options): number {
  return options.partitions ?? scenario.partitions ?? 6;
}

interface Options {
  clients: ClientSpec[];
  scenarios: Scenario[];
  records: number | undefined;
  warmup: number;
  partitions: number | undefined;
  sampleEvery: number;
  kafka: string;
  clientOptions: Record<string, Record<string, string>>;
  /** --batch-bytes: matched batch sizes. */
  batchBytes: number | undefined;
  pauseMs: number;
  repeat: number;
  outDir: string;
  setup: boolean;
  build: boolean;
  /** An unmeasured run of the first client before a scenario's first round (see brokerWarmup). */
  brokerWarmup: boolean;
  bootstrap: string | undefined;
  nodes: 1 | 3;
  /** Of every topic a run creates; undefined: the broker's default. */
  replicationFactor: number | undefined;
  /** min.insync.replicas of every topic a run creates; undefined: the broker's default. */
  minInsync: number | undefined;
}

function parseOptions(): Options {
  try {
    return parseOptionsOrThrow();
  } catch (error) {
    process.stderr.write(usage());
    fail(error instanceof Error ? error.message : String(error));
  }
}

function parseOptionsOrThrow(): Options {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string' },
      scenario: { type: 'string', default: 'all' },
      records: { type: 'string' },
      warmup: { type: 'string', default: '10000' },
      partitions: { type: 'string' },
      'sample-every': { type: 'string' },
      kafka: { type: 'string', default: '4.3.1' },
      opt: { type: 'string', multiple: true, default: [] },
      'pause-ms': { type: 'string', default: '2000' },
      repeat: { type: 'string', default: '1' },
      out: { type: 'string', default: path.join(BENCH_DIR, 'results') },
      'no-setup': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'no-broker-warmup': { type: 'boolean', default: false },
      bootstrap: { type: 'string' },
      rate: { type: 'string', default: '10000' },
      nodes: { type: 'string', default: '1' },
      'replication-factor': { type: 'string' },
      'min-insync': { type: 'string' },
      'batch-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(usage());
    process.exit(0);
  }
  const ids = (values.clients ?? CLIENTS.map((c) => c.id).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => ALIASES[s] ?? s);
  const clients = ids.map((id) => {
    const spec = CLIENTS.find((c) => c.id === id);
    if (!spec) fail(`unknown client ${id}; known: ${CLIENTS.map((c) => c.id).join(', ')}`);
    return spec;
  });
  const rates = values.rate.split(',').map((r) => positiveInt('rate', r.trim()));
  const scenarios =
    values.scenario === 'all'
      ? SCENARIOS.filter((s) => !s.optIn)
      : values.scenario === 'latency'
        ? latencyScenarios(rates)
        : SCENARIOS.filter((s) => s.name === values.scenario);
  if (scenarios.length === 0) fail(`unknown scenario ${values.scenario}; known: ${SCENARIOS.map((s) => s.name).join(', ')}, all`);
  const clientOptions: Record<string, Record<string, string>> = {};
  for (const opt of values.opt) {
    const match = /^([^.=]+)\.([^=]+)=(.*)$/.exec(opt);
    if (!match) fail(`--opt ${opt}: expected CLIENT.KEY=VALUE`);
    const id = ALIASES[match[1]!] ?? match[1]!;
    (clientOptions[id] ??= {})[match[2]!] = match[3]!;
  }
  if (values['batch-bytes'] !== undefined) {
    // Each client's own setting, where the user did not give it with --opt.
    for (const [id, settings] of Object.entries(matchedBatchOptions(positiveInt('batch-bytes', values['batch-bytes'])))) {
      clientOptions[id] = { ...settings, ...clientOptions[id] };
    }
  }
  const nodes = positiveInt('nodes', values.nodes);
  if (nodes !== 1 && nodes !== 3) fail(`--nodes ${nodes}: the harness starts 1 or 3 brokers`);
  if (nodes === 3 && values.bootstrap !== undefined) fail('--nodes starts a cluster; with --bootstrap give --replication-factor and --min-insync instead');
  const replicationFactor = values['replication-factor'] === undefined ? (nodes === 3 ? 3 : undefined) : positiveInt('replication-factor', values['replication-factor']);
  const minInsync =
    values['min-insync'] === undefined ? (replicationFactor !== undefined && replicationFactor >= 3 ? 2 : undefined) : positiveInt('min-insync', values['min-insync']);
  if (replicationFactor !== undefined && replicationFactor > nodes && values.bootstrap === undefined) fail(`--replication-factor ${replicationFactor} needs --nodes 3`);
  if (minInsync !== undefined && minInsync > (replicationFactor ?? 1)) fail(`--min-insync ${minInsync} is more than the replication factor`);
  return {
    clients,
    scenarios,
    records: values.records === undefined ? undefined : positiveInt('records', values.records),
    warmup: positiveInt('warmup', values.warmup, true),
    partitions: values.partitions === undefined ? undefined : positiveInt('partitions', values.partitions),
    // Latency scenarios time every record unless told otherwise; throughput ones every 10th.
    sampleEvery: positiveInt('sample-every', values['sample-every'] ?? (scenarios.some((s) => s.rate) ? '1' : '10')),
    kafka: values.kafka,
    clientOptions,
    pauseMs: positiveInt('pause-ms', values['pause-ms'], true),
    repeat: positiveInt('repeat', values.repeat),
    outDir: path.resolve(values.out),
    setup: !values['no-setup'],
    build: !values['no-build'],
    brokerWarmup: !values['no-broker-warmup'],
    bootstrap: values.bootstrap === undefined ? undefined : loopbackOnly(values.bootstrap),
    nodes,
    replicationFactor,
    minInsync,
    batchBytes: values['batch-bytes'] === undefined ? undefined : positiveInt('batch-bytes', values['batch-bytes']),
  };
}

/**
 * `--batch-bytes N`: every client that has a batch size sends batches of (at most) N bytes,
 * so a table shows what is the client and what is its default setting. KafkaJS and
 * @platformatic/kafka have no batch size (a send() call's messages make the batch).
 */
export function matchedBatchOptions(bytes: number): Record<string, Record<string, string>> {
  const n = String(bytes);
  // Requests must hold one such batch: 1 KiB of framing on top, and never below the clients' 1 MiB default.
  const request = String(Math.max(1_048_576, bytes + 1024));
  return {
    'kafka-wire': { batchSize: n, maxBatchSize: n, maxRequestSize: request },
    'franz-go': { batchMaxBytes: n },
    sarama: { maxMessageBytes: n },
    confluent: { 'batch.size': n, 'message.max.bytes': String(Math.max(1_000_000, bytes + 1024)) },
    'java-producer': { 'batch.size': n, 'max.request.size': request },
    java: { 'batch.size': n, 'max.request.size': request },
  };
}

function usage(): string {
  return `usage: npm run bench -- [options]        (tsx bench/run.ts)
  --clients a,b,...   ${CLIENTS.map((c) => c.id).join(', ')} (default: all)
  --scenario NAME     ${SCENARIOS.map((s) => `${s.name} (${s.title}, ${s.defaultRecords} records)`).join(', ')}, all (default: all but ${SCENARIOS.filter((s) => s.optIn).map((s) => s.name).join(', ')})
  --records N         records per client for every chosen scenario
  --warmup N          warm-up records per client, not counted (default 10000; 0 for none)
  --partitions N      partitions of each run's topic (default 6, or the scenario's own)
  --sample-every N    per-record clients time every N-th record (default 10; 1 in the latency scenario)
  --kafka VERSION     broker version (default 4.3.1)
  --opt C.KEY=VALUE   client tuning, repeatable (kafkajs.chunk=5000, confluent.batch.size=65536, ...)
  --repeat N          run every client N times (interleaved), report the median run (default 1)
  --pause-ms N        idle time between client runs (default 2000)
  --out DIR           where results go (default bench/results)
  --no-setup          do not run bench/setup.sh first (it installs the Node clients and builds the Go runners)
  --no-build          do not compile kafka-wire and the Node runners into bench/.bin/ first (use what is there; the
                      Java runner is compiled whenever its class is missing or older than its source)
  --bootstrap H:P     use a broker already running on 127.0.0.1 (version per --kafka) instead of starting one
  --rate N[,N...]     latency scenario: offered records/s, one run per rate (default 10000; e.g. 10000,100000)
  --nodes 1|3         brokers of the cluster started (default 1); 3: topics with replication factor 3, min.insync.replicas 2
  --replication-factor N  replication factor of the runs' topics (default 1, or 3 with --nodes 3); for --bootstrap of a cluster
  --min-insync N      min.insync.replicas of the runs' topics (default: broker default, or 2 when the replication factor is 3 or more)
  --batch-bytes N     matched batch sizes: every client with a batch size setting sends batches of at most N bytes
                      (kafka-wire batchSize=maxBatchSize, franz-go batchMaxBytes, Sarama maxMessageBytes, librdkafka
                      batch.size, Java batch.size for java-producer and java; KafkaJS and @platformatic/kafka have none);
                      --opt overrides
`;
}

/** The benchmark only ever talks to this machine. */
function loopbackOnly(bootstrap: string): string {
  for (const address of bootstrap.split(',')) {
    if (!/^(127\.\d+\.\d+\.\d+|localhost):\d+$/.test(address.trim())) fail(`--bootstrap ${address}: only 127.0.0.1 / localhost addresses`);
  }
  return bootstrap;
}

function positiveInt(name: string, value: string, zeroOk = false): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) fail(`--${name} ${value}: expected a ${zeroOk ? 'non-negative' : 'positive'} integer`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/**
 * Compiles what the Node clients run, so they run as plain JavaScript under
 * node: kafka-wire's src/ with the package's own build config
 * (tsconfig.build.json, which `npm run build` compiles into dist/) into
 * bench/.bin/kafka-wire/, not dist/ itself, which `npm run build` first
 * deletes and tests read; and the runners (bench/tsconfig.runners.json) into
 * bench/.bin/node/.
 */
function buildNode(withKafkaWire: boolean): void {
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const steps: Array<[string, string[]]> = [['Node runners → bench/.bin/node', ['-p', path.join(BENCH_DIR, 'tsconfig.runners.json')]]];
  if (withKafkaWire) {
    steps.unshift(['kafka-wire (tsconfig.build.json) → bench/.bin/kafka-wire', ['-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', KAFKA_WIRE_BUILD]]);
  }
  for (const [what, args] of steps) {
    log(`building ${what}`);
    // As `npm run build` does: a clean output, so no file of a since-deleted source lingers.
    const kafkaWire = what.startsWith('kafka-wire');
    if (kafkaWire) rmSync(KAFKA_WIRE_BUILD, { recursive: true, force: true });
    const from = gitState();
    const result = spawnSync(process.execPath, [tsc, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (result.status !== 0) fail(`building ${what} failed:\n${result.stdout}${result.stderr}`);
    if (kafkaWire) writeFileSync(BUILT_FROM, `${JSON.stringify(from)}\n`);
  }
}


/** The commit kafka-wire's build came from (see BUILT_FROM), else the checkout's. */
function kafkaWireSource(): { commit: string; srcDirty: boolean } {
  try {
    return JSON.parse(readFileSync(BUILT_FROM, 'utf8')) as { commit: string; srcDirty: boolean };
  } catch {
    return gitState();
  }
}

/**
 * Compiles the chosen Java runners (bench/clients/java/<runner>.java) against the run's
 * Kafka jars into bench/.bin/<id>/, each only when its class is missing or older than
 * its source. One that does not compile is skipped with javac's reason, as a Go runner
 * that did not build is: the other clients still run.
 */
async function buildJavaRunners(clients: readonly ClientSpec[], kafka: string): Promise<void> {
  for (const client of clients) {
    const source = path.join(BENCH_DIR, 'clients', 'java', `${client.runner!}.java`);
    const logFile = path.join(BIN_DIR, `${client.id}.build.log`);
    mkdirSync(BIN_DIR, { recursive: true });
    const result = await compileJavaRunner(source, path.join(BIN_DIR, client.id), kafka, logFile);
    if (result.status === 'compiled') log(`compiled ${path.relative(REPO_ROOT, source)} → bench/.bin/${client.id}/ (Kafka ${kafka} jars)`);
    if (result.status === 'failed') {
      javaRunnerProblems.set(client.id, `skipped: ${path.relative(REPO_ROOT, source)} did not compile (${result.reason}; bench/.bin/${client.id}.build.log)`);
      log(`${client.label}: ${javaRunnerProblems.get(client.id)!}`);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The commit kafka-wire's runner loads src/ from, and whether src/ differs from it. */
function gitState(): { commit: string; srcDirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return { commit, srcDirty: dirty.length > 0 };
  } catch {
    return { commit: 'unknown', srcDirty: false };
  }
}

function commitOf(state: { commit: string; srcDirty: boolean }): string {
  return state.srcDirty ? `${state.commit}+src changes` : state.commit;
}

function machineInfo(kafka: string): Record<string, unknown> {
  const cpus = os.cpus();
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  const commit = commitOf(kafkaWireSource());
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    java: (java.stderr || java.stdout || 'unknown').split('\n')[0]?.trim(),
    go: go.status === 0 ? go.stdout.trim() : 'none',
    kafka,
    kafkaWireCommit: commit,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const options = parseOptions();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killLiveGroups();
      process.exit(130);
    });
  }
  if (options.setup) {
    log('bench/setup.sh');
    const setup = spawnSync('bash', [path.join(BENCH_DIR, 'setup.sh')], { stdio: 'inherit' });
    if (setup.status !== 0) fail(`bench/setup.sh failed (exit ${setup.status ?? setup.signal})`);
  }
  const nodeClients = options.clients.filter((c) => c.kind === 'node');
  if (options.build && nodeClients.length > 0) buildNode(nodeClients.some((c) => c.id === 'kafka-wire'));
  await buildJavaRunners(options.clients.filter((c) => c.kind === 'java-runner'), options.kafka);
  await mkdir(options.outDir, { recursive: true });

  let cluster: ToolTarget & { stop?: () => Promise<void> };
  if (options.bootstrap) {
    cluster = { version: options.kafka, bootstrap: options.bootstrap };
    log(`using the broker at ${cluster.bootstrap} (Kafka ${options.kafka})`);
  } else {
    cluster = await startBenchCluster(options);
  }
  const machine = machineInfo(options.kafka);
  try {
    for (const chosen of options.scenarios) {
      const scenario = withRealisticRecords(chosen);
      const records = options.records ?? scenario.defaultRecords;
      const startedAt = new Date().toISOString();
      const attempts = new Map<string, ClientRun[]>();
      // Repetitions are interleaved (every client once, then again) so a drift of the broker's
      // state spreads over all, and each round starts one client further on: whoever goes first
      // meets a broker that has not yet run this scenario's requests (with 1,000 partitions the
      // first run can be half as fast), and that must not always be the same client.
      const brokerWarmup = brokerWarmupFor(scenario, options, cluster);
      if (brokerWarmup) {
        // The broker's own JIT compiles its produce path during the first run it serves,
        // which was then several times slower than the next (1M x 100 B: 0.9M against
        // 1.7-2.2M records/s), and it was always the first client's run. An unmeasured
        // run first gives every measured run a warm broker.
        // A scenario at a fixed rate warms it up at full speed, with fewer records: the first
        // run at 100,000 records/s against a cold broker had a p99 of 11.9 ms where the same
        // client's next two had 3.3-3.4.
        const first = options.clients[0]!;
        const { rate, ...unpaced } = scenario;
        const warmRecords = rate === undefined ? records : Math.min(records, RATE_BROKER_WARMUP_RECORDS);
        log(`[${scenario.name}] warming the broker up: ${first.label}, ${warmRecords.toLocaleString('en-US')} records${rate === undefined ? '' : ' at full speed'}, not counted`);
        const warm = await runClient(cluster, first, unpaced, warmRecords, options);
        log(`[${scenario.name}] broker warm-up: ${summaryLine(warm)}`);
        if (options.pauseMs > 0) await sleep(options.pauseMs);
      }
      const hostProbe: number[] = [];
      for (let round = 1; round <= options.repeat; round++) {
        hostProbe.push(hostProbeMs());
        for (const [i, client] of rotated(options.clients, round - 1).entries()) {
          // A broker that had a topic of more than 5,000 partitions is not given another: two
          // such topics need more open files than this machine allows a process, and deleting
          // the first frees them only some time later. Each client run gets a fresh broker.
          if (cluster.stop && partitionsOf(scenario, options) > PARTITIONS_AT_CREATION && (round > 1 || i > 0)) {
            await cluster.stop();
            cluster = await startBenchCluster(options);
          }
          const of = options.repeat > 1 ? ` (run ${round} of ${options.repeat})` : '';
          const keyed = scenario.keys ? `, ${scenario.keys.toLocaleString('en-US')} keys, ${partitionsOf(scenario, options)} partitions` : '';
          log(`[${scenario.name}] ${client.label}${of}: ${records.toLocaleString('en-US')} records of ${scenario.recordSize} B, ${scenario.compression}${keyed}`);
          const run = await runClient(cluster, client, scenario, records, options);
          log(`[${scenario.name}] ${client.label}: ${summaryLine(run)}`);
          attempts.set(client.id, [...(attempts.get(client.id) ?? []), run]);
          if (run.status.startsWith('skipped')) continue;
          if (options.pauseMs > 0) await sleep(options.pauseMs);
        }
      }
      hostProbe.push(hostProbeMs());
      log(`[${scenario.name}] host probe (ms, before each round and after the last): ${hostProbe.join(', ')}`);
      const runs = options.clients.map((client) => representative(attempts.get(client.id) ?? []));
      const partitionCount = partitionsOf(scenario, options);
      // Another partition count than the scenario's own gets its own file and title, so runs
      // at 6, 100 and 1,000 partitions sit side by side.
      const otherCount = scenario.partitions !== undefined && partitionCount !== scenario.partitions;
      const result: ScenarioResult = {
        scenario: otherCount ? `${scenario.name}-${partitionCount}` : scenario.name,
        title: otherCount ? scenario.title.replace(`over ${fmtCount(scenario.partitions!)} partitions`, `over ${fmtCount(partitionCount)} partitions`) : scenario.title,
        recordSize: scenario.recordSize,
        compression: scenario.compression,
        records,
        warmupRecords: options.warmup,
        brokerWarmup,
        partitions: partitionsOf(scenario, options),
        ...(scenario.keys ? { keys: scenario.keys } : {}),
        ...(scenario.realistic
          ? { recordsNote: `JSON order events from bench/lib/realistic.ts, seed ${REALISTIC_SEED}, a pool of ${fmtCount(REALISTIC_POOL)} sent round and round, keyed by customer id` }
          : {}),
        latencySampleEvery: options.sampleEvery,
        startedAt,
        finishedAt: new Date().toISOString(),
        machine,
        hostProbeMs: hostProbe,
        ...(scenario.rate ? { rate: scenario.rate } : {}),
        ...(options.batchBytes ? { batchBytes: options.batchBytes } : {}),
        cluster: {
          version: options.kafka,
          nodes: options.bootstrap ? options.bootstrap.split(',').length : options.nodes,
          replicationFactor: options.replicationFactor ?? 'broker default',
          minInsyncReplicas: options.minInsync ?? 'broker default',
          brokerJvm: options.bootstrap ? 'external broker' : 'harness defaults (scripts/kafka/java.ts BROKER_JVM_OPTIONS)', bootstrap: cluster.bootstrap },
        runs,
      };
      log(`wrote ${path.relative(REPO_ROOT, await writeScenario(options.outDir, result))}`);
    }
    const md = await writeMarkdown(options.outDir);
    log(`wrote ${path.relative(REPO_ROOT, md)}`);
    process.stdout.write(await import('node:fs/promises').then((fs) => fs.readFile(md, 'utf8')));
  } finally {
    if (cluster.stop) {
      log('stopping the cluster');
      await cluster.stop();
    }
  }
}

async function startBenchCluster(options: Options): Promise<ToolTarget & { stop: () => Promise<void> }> {
  log(`starting a ${options.nodes}-node Kafka ${options.kafka} cluster`);
  const cluster = await startCluster({ version: options.kafka, nodes: options.nodes, name: options.nodes === 3 ? 'bench-3n' : 'bench' });
  log(`cluster up at ${cluster.bootstrap}`);
  return cluster;
}

/**
 * Records of the unmeasured run before a scenario at a fixed rate: sent at full speed (a
 * warm-up at the rate would take as long as the run), enough for the broker's JIT to
 * compile its produce path.
 */
const RATE_BROKER_WARMUP_RECORDS = 1_000_000;

/**
 * Whether a scenario starts with an unmeasured run: not when every run gets a broker of
 * its own anyway (topics of over 5,000 partitions).
 */
function brokerWarmupFor(scenario: Scenario, options: Options, cluster: { stop?: () => Promise<void> }): boolean {
  if (!options.brokerWarmup) return false;
  return !(cluster.stop && partitionsOf(scenario, options) > PARTITIONS_AT_CREATION);
}

/** `list` starting at index `by` (modulo its length), wrapping around. */
function rotated<T>(list: readonly T[], by: number): T[] {
  const at = list.length > 0 ? by % list.length : 0;
  return [...list.slice(at), ...list.slice(0, at)];
}

/** The median run by records/s among the good ones, with every run's headline figures attached. */
function representative(runs: ClientRun[]): ClientRun {
  if (runs.length === 1) return runs[0]!;
  const good = runs.filter((r) => r.status === 'ok' && r.recordsPerSec !== null).sort((a, b) => a.recordsPerSec! - b.recordsPerSec!);
  const chosen = good.length > 0 ? good[Math.floor((good.length - 1) / 2)]! : runs[runs.length - 1]!;
  chosen.repeats = runs.map((r) => ({
    topic: r.topic,
    status: r.status,
    recordsPerSec: r.recordsPerSec,
    p50Ms: r.latency?.p50Ms ?? null,
    p99Ms: r.latency?.p99Ms ?? null,
    ...(r.latency?.p999Ms === undefined ? {} : { p999Ms: r.latency.p999Ms }),
    cpuS: r.cpuS,
    peakRssMiB: r.peakRssMiB,
  }));
  if (good.length > 0) {
    const rates = good.map((r) => Math.round(r.recordsPerSec! / 1000));
    chosen.status = `${chosen.status} (median of ${good.length}${good.length < runs.length ? ` good of ${runs.length}` : ''}; ${rates[0]}k–${rates[rates.length - 1]}k records/s)`;
  }
  return chosen;
}

function summaryLine(run: ClientRun): string {
  if (run.recordsPerSec === null) return run.status;
  return (
    `${Math.round(run.recordsPerSec).toLocaleString('en-US')} records/s, p50 ${run.latency?.p50Ms ?? '–'} ms, p99 ${run.latency?.p99Ms ?? '–'} ms, p99.9 ${run.latency?.p999Ms ?? '–'} ms, ` +
    `${run.cpuUsPerRecord?.toFixed(2) ?? '–'} µs CPU/record, ` +
    `CPU ${run.cpuS?.toFixed(2) ?? '–'} s, RSS ${run.peakRssMiB?.toFixed(0) ?? '–'} MB — ${run.status}`
  );
}

function emptyRun(client: ClientSpec, topic: string, records: number, status: string): ClientRun {
  return {
    id: client.id,
    label: client.label,
    version: null,
    idempotent: null,
    status,
    topic,
    records,
    acked: null,
    failed: null,
    delivered: null,
    elapsedMs: null,
    recordsPerSec: null,
    mbPerSec: null,
    latency: null,
    cpuS: null,
    cpuMethod: '',
    cpuUsPerRecord: null,
    peakRssMiB: null,
    process: null,
    settings: {},
    notes: [],
  };
}

let runCounter = 0;

async function runClient(cluster: ToolTarget, client: ClientSpec, scenario: Scenario & { recordsFile?: string }, records: number, options: Options): Promise<ClientRun> {
  const stamp = `${Date.now().toString(36)}${runCounter++}`;
  const topic = `bench-${scenario.name}-${client.id}-${stamp}`;
  const warmupTopic = `${topic}-warmup`;
  const unavailable =
    client.unavailable?.() ??
    ((scenario.keys || scenario.realistic) && !client.keyed ? 'skipped: its runner sends neither keys nor varied records (keyed and realistic scenarios)' : undefined) ??
    client.cannotCompress?.(scenario.compression);
  // Every runner can be paced now (bench/lib/child.ts Pump and pacedSends, the Go child's Pump, the Java runner's Pump, ProducerPerformance's --throughput);
  // a runner added later without pacing must say so here (paced: false) rather than run unpaced.
  const unpaced = scenario.rate && client.paced === false ? 'skipped: its runner cannot send at a fixed rate' : undefined;
  if (unavailable ?? unpaced) return emptyRun(client, topic, records, (unavailable ?? unpaced)!);

  const partitions = partitionsOf(scenario, options);
  try {
    const replication = {
      ...(options.replicationFactor !== undefined ? { replicationFactor: options.replicationFactor } : {}),
      ...(options.minInsync !== undefined ? { config: { 'min.insync.replicas': String(options.minInsync) } } : {}),
    };
    await createBigTopic(cluster, topic, partitions, replication);
    // Only Java's CPU baseline (a JVM that does nothing but the warm-up) writes elsewhere. Two
    // topics of 10,000 partitions need more open files than this machine gives a process
    // (20,000): past 5,000 that baseline's topic gets 100 partitions.
    if (client.kind === 'java') {
      await createBigTopic(cluster, warmupTopic, partitions > PARTITIONS_AT_CREATION ? WARMUP_PARTITIONS_OF_BIG_TOPICS : partitions, replication);
    }
    if (partitions > 100) await settle(cluster, client.kind === 'java' ? [warmupTopic, topic] : [topic]);
  } catch (error) {
    return emptyRun(client, topic, records, `failed: could not create topics: ${firstLine(error)}`);
  }
  const timeoutMs = 120_000 + records * 2 + (scenario.rate ? Math.ceil((records / scenario.rate) * 2000) : 0);
  const loadBefore = os.loadavg()[0] ?? 0;
  const run = client.kind !== 'java'
    ? await runChildClient(cluster, client, scenario, records, options, topic, timeoutMs)
    : await runJava(cluster, client, scenario, records, options, topic, warmupTopic, timeoutMs);
  // Other work on the machine competes with the broker and the client for the 2 cores: keep a trace of it.
  run.loadAverage1m = { before: round2(loadBefore), after: round2(os.loadavg()[0] ?? 0) };
  // A thousand partitions a run soon use up the broker's open files: counted, they go.
  if (partitions > 100) {
    for (const name of client.kind === 'java' ? [warmupTopic, topic] : [topic]) {
      await topics(cluster, ['--delete', '--topic', name], { allowFailure: true }).catch((error: unknown) => run.notes.push(`deleting ${name}: ${firstLine(error)}`));
    }
  }
  if (run.delivered === null && !run.status.startsWith('failed') && !run.status.startsWith('skipped')) {
    run.status = 'failed: could not read end offsets';
  }
  return run;
}

/**
 * Waits until every partition of the topics has a leader, and a moment more: a topic of a
 * thousand partitions takes a while to be hosted everywhere, and a client starting at once
 * meets UNKNOWN_TOPIC_OR_PARTITION (franz-go gives up on it after a few tries).
 */
/** KRaft refuses to create a topic of more than about 5,000 partitions in one step: bigger ones get the rest added after. */
const PARTITIONS_AT_CREATION = 5000;
const WARMUP_PARTITIONS_OF_BIG_TOPICS = 100;

async function createBigTopic(cluster: ToolTarget, name: string, partitions: number, replication: { replicationFactor?: number; config?: Record<string, string> }): Promise<void> {
  await createTopic(cluster, name, { partitions: Math.min(partitions, PARTITIONS_AT_CREATION), ...replication });
  if (partitions <= PARTITIONS_AT_CREATION) return;
  // Just created, the topic is not known yet to every part of the broker ("does not exist as expected").
  for (let attempt = 1; ; attempt++) {
    try {
      await topics(cluster, ['--alter', '--topic', name, '--partitions', String(partitions)]);
      return;
    } catch (error) {
      if (attempt >= 30 || !String(error).includes('does not exist')) throw error;
      await sleep(1000);
    }
  }
}

async function settle(cluster: ToolTarget, topics: readonly string[]): Promise<void> {
  for (const topic of topics) {
    for (let attempt = 0; attempt < 30; attempt++) {
      // Just created, it may not be known yet to the broker answering.
      const description = await describeTopic(cluster, topic).catch(() => undefined);
      if (description && description.partitions.length === description.partitionCount && description.partitions.every((p) => p.leader >= 0)) break;
      await sleep(1000);
    }
  }
  await servedEverywhere(cluster.bootstrap, topics);
}

/**
 * Metadata names a new partition's leader before that leader serves it, and a thousand
 * partitions take the broker seconds: a client started before then gets
 * NOT_LEADER_OR_FOLLOWER for many of them and spends its run retrying. So the run waits
 * until every partition's leader answers ListOffsets for it.
 */
async function servedEverywhere(bootstrap: string, names: readonly string[]): Promise<void> {
  const [host, port] = bootstrap.split(',')[0]!.split(':');
  const any = await BrokerConnection.open({ host: host!, port: Number(port), clientId: 'bench-settle' });
  const byNode = new Map<number, Promise<BrokerConnection>>();
  try {
    const { response } = await any.request(Metadata, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: false });
    const address = new Map(response.brokers.map((b) => [b.nodeId, b]));
    const connect = (nodeId: number): Promise<BrokerConnection> => {
      let conn = byNode.get(nodeId);
      if (!conn) {
        const b = address.get(nodeId);
        if (!b) throw new Error(`no address for node ${nodeId}`);
        byNode.set(nodeId, (conn = BrokerConnection.open({ host: b.host, port: b.port, clientId: 'bench-settle' })));
      }
      return conn;
    };
    for (const t of response.topics) {
      const leaders = new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId]));
      await waitUntilServed((partition) => connect(leaders.get(partition) ?? -1), t.name!, [...leaders.keys()], 60_000);
    }
  } finally {
    await any.close();
    for (const conn of byNode.values()) await conn.then((c) => c.close()).catch(() => {});
  }
}

/** Records the measured phase delivered: the topic's end offsets less the warm-up written before it. */
async function countMeasured(cluster: ToolTarget, topic: string, warmupRecords: number, run: ClientRun): Promise<number | null> {
  try {
    const offsets = await endOffsets(cluster, topic);
    run.notes.push(`end offsets: ${JSON.stringify(offsets.partitions)}${warmupRecords > 0 ? ` (${warmupRecords} of them the warm-up's)` : ''}`);
    // A run that failed inside its warm-up has fewer; nothing of the measured phase, then.
    return Math.max(0, offsets.total - warmupRecords);
  } catch (error) {
    run.notes.push(`end offsets: ${firstLine(error)}`);
    return null;
  }
}

function finishFigures(run: ClientRun, recordSize: number): void {
  if (run.delivered !== null && run.elapsedMs) {
    run.recordsPerSec = run.delivered / (run.elapsedMs / 1000);
    run.mbPerSec = (run.recordsPerSec * recordSize) / 2 ** 20;
  }
  if (run.cpuS !== null) run.cpuUsPerRecord = (run.cpuS / run.records) * 1e6;
  const problems: string[] = [];
  if (run.delivered !== null && run.delivered !== run.records) {
    problems.push(`${run.delivered < run.records ? 'incomplete' : 'duplicates'}: broker has ${run.delivered} of ${run.records}`);
  }
  if (run.failed) problems.push(`${run.failed} failed`);
  if (problems.length > 0 && run.status === 'ok') run.status = problems.join('; ');
}

/** A Node, Go or Java runner: the config as its argument, one BENCH_RESULT line back (bench/lib/child.ts, bench/clients/go/child, bench/clients/java). */
async function runChildClient(
  cluster: ToolTarget,
  client: ClientSpec,
  scenario: Scenario & { recordsFile?: string },
  records: number,
  options: Options,
  topic: string,
  timeoutMs: number,
): Promise<ClientRun> {
  const config: ChildConfig = {
    client: client.id,
    bootstrap: cluster.bootstrap,
    topic,
    // As ProducerPerformance's --warmup-records: the warm-up writes to the measured topic, so
    // the measured phase meets a topic the client already knows (its metadata, its batches,
    // code already compiled for them), and its records are subtracted from the end offsets.
    warmupTopic: topic,
    partitions: partitionsOf(scenario, options),
    records,
    warmupRecords: options.warmup,
    recordSize: scenario.recordSize,
    compression: scenario.compression,
    ...(scenario.keys ? { keys: scenario.keys } : {}),
    ...(scenario.recordsFile ? { recordsFile: scenario.recordsFile } : {}),
    clientId: `bench-${client.id}`,
    latencySampleEvery: options.sampleEvery,
    options: options.clientOptions[client.id] ?? {},
    ...(scenario.rate ? { rate: scenario.rate } : {}),
  };
  if (client.id === 'kafka-wire') config.entry = path.join(KAFKA_WIRE_BUILD, 'index.js');
  const spawnedAt = kafkaWireSource();
  const [command, args] =
    client.kind === 'go'
      ? [path.join(BIN_DIR, client.runner!), [JSON.stringify(config)]]
      : client.kind === 'java-runner'
        ? // kafka-producer-perf-test.sh's JVM flags, as ProducerPerformance gets (bench/lib/java.ts).
          [javaBinary(), [...(await javaPrefix(await ensureKafka(cluster.version), PERF_JVM_OPTIONS, [path.join(BIN_DIR, client.id)])), client.runner!, JSON.stringify(config)]]
        : [process.execPath, [path.join(BIN_DIR, 'node', 'clients', client.runner!.replace(/\.ts$/, '.js')), JSON.stringify(config)]];
  if (client.kind === 'node' && !existsSync(args[0]!)) return emptyRun(client, topic, records, `skipped: ${path.relative(REPO_ROOT, args[0]!)} not compiled (run without --no-build)`);
  if (client.id === 'kafka-wire' && !existsSync(config.entry!)) return emptyRun(client, topic, records, `skipped: ${path.relative(REPO_ROOT, config.entry!)} not built (run without --no-build)`);
  const child = await runMeasured(command, args, { cwd: REPO_ROOT, timeoutMs });
  const run = emptyRun(client, topic, records, 'ok');
  run.process = child.outside ?? null;
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (!line || child.exitCode !== 0) {
    const why = child.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : lastErrorLine(child.stderr) || `exit ${child.exitCode ?? child.signal}`;
    run.status = `failed: ${why}`;
    run.notes.push(`stderr tail: ${child.stderr.trim().split('\n').slice(-15).join('\n')}`);
    run.delivered = await countMeasured(cluster, topic, options.warmup, run);
    return run;
  }
  const result = JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult;
  run.child = result;
  run.version = client.id === 'kafka-wire' ? `${result.version} @ ${commitOf(spawnedAt)}` : result.version;
  run.idempotent = result.idempotent;
  run.acked = result.acked;
  run.failed = result.failed;
  run.elapsedMs = result.elapsedMs;
  run.latency = result.latency;
  run.cpuS = result.cpu.measuredUserS + result.cpu.measuredSystemS;
  run.cpuMethod =
    client.kind === 'go'
      ? 'getrusage(RUSAGE_SELF) in the client, measured phase only (all threads)'
      : client.kind === 'java-runner'
        ? 'OperatingSystemMXBean.getProcessCpuTime() in the client (times(2), 10 ms ticks), measured phase only (all threads)'
        : 'process.cpuUsage() in the client, measured phase only (all threads)';
  run.peakRssMiB = result.maxRssKiB / 1024;
  run.settings = result.settings;
  run.notes.push(...result.notes);
  if (result.firstError) run.notes.push(`first error: ${result.firstError}`);
  if (result.paced) {
    run.notes.push(`paced at ${result.paced.rate} records/s: the schedule slipped by ${result.paced.droppedFromSchedule} records' time, passed while the sender was more than a slice late (those records went later, not in a burst)`);
  }
  run.delivered = await countMeasured(cluster, topic, options.warmup, run);
  finishFigures(run, scenario.recordSize);
  if (result.paced && result.paced.droppedFromSchedule > 0) run.status += `; schedule slipped ${fmtCount(result.paced.droppedFromSchedule)} records`;
  return run;
}

async function runJava(
  cluster: ToolTarget,
  client: ClientSpec,
  scenario: Scenario,
  records: number,
  options: Options,
  topic: string,
  warmupTopic: string,
  timeoutMs: number,
): Promise<ClientRun> {
  const run = emptyRun(client, topic, records, 'ok');
  const producerProps = {
    acks: 'all',
    'enable.idempotence': 'true',
    'linger.ms': '5',
    'compression.type': scenario.compression,
    'client.id': `bench-${client.id}`,
    ...options.clientOptions[client.id],
  };
  const version = cluster.version;
  run.version = `Kafka ${version}`;
  run.idempotent = producerProps['enable.idempotence'] === 'true';
  const warmup = supportsWarmup(version) ? options.warmup : 0;
  const throughput = scenario.rate ?? -1;
  run.settings = { producerProps, recordSize: scenario.recordSize, throughput, warmupRecords: warmup, jvm: PERF_JVM_OPTIONS.join(' ') };
  if (options.warmup > 0 && warmup === 0) run.notes.push(`Kafka ${version}'s ProducerPerformance has no --warmup-records: no warm-up`);

  // The baseline: a JVM that only does the warm-up (start, connect, JIT, `warmup` records).
  // Its CPU is subtracted from the measured run's, which does the same warm-up first.
  const baseline = await producerPerformance({
    target: cluster,
    topic: warmupTopic,
    records: Math.max(1, warmup),
    warmupRecords: 0,
    recordSize: scenario.recordSize,
    producerProps,
    timeoutMs,
  });
  const main = await producerPerformance({
    target: cluster,
    topic,
    records,
    warmupRecords: warmup,
    recordSize: scenario.recordSize,
    producerProps,
    timeoutMs,
    throughput,
  });
  run.process = main.outside ?? null;
  run.java = {
    command: main.command,
    summaryTotal: main.total,
    summarySteadyState: main.steady,
    stdoutTail: main.stdout.trim().split('\n').slice(-3),
    baselineProcess: baseline.outside,
    baselineSummary: baseline.total,
  };
  if (main.exitCode !== 0 || !main.steady) {
    run.status = main.timedOut ? `failed: timed out after ${Math.round(timeoutMs / 1000)} s` : `failed: ${lastErrorLine(main.stderr) || `exit ${main.exitCode ?? main.signal}`}`;
    run.notes.push(`stderr tail: ${main.stderr.trim().split('\n').slice(-15).join('\n')}`);
    return run;
  }
  const steady = main.steady;
  run.acked = steady.records;
  run.elapsedMs = Math.round((steady.records / steady.recordsPerSec) * 1e6) / 1000;
  run.latency = { kind: 'per-record', samples: steady.records, recordsPerSample: 1, avgMs: steady.avgMs, p50Ms: steady.p50Ms, p99Ms: steady.p99Ms, p999Ms: steady.p999Ms, maxMs: steady.maxMs };
  if (main.outside) {
    run.peakRssMiB = main.outside.maxRssKiB / 1024;
    if (baseline.outside && baseline.exitCode === 0) {
      const difference = main.outside.userS + main.outside.systemS - (baseline.outside.userS + baseline.outside.systemS);
      run.cpuMethod = 'GNU time, user+system of the measured JVM minus that of a JVM that only did the warm-up';
      if (difference > 0) run.cpuS = difference;
      else run.notes.push(`CPU not above the warm-up-only JVM's (${difference.toFixed(2)} s): too few records to measure`);
    } else {
      run.cpuS = main.outside.userS + main.outside.systemS;
      run.cpuMethod = 'GNU time, user+system of the whole JVM (the baseline run failed, nothing subtracted)';
      run.notes.push('CPU includes JVM start-up and warm-up');
    }
  }
  run.notes.push('elapsed = steady-state records / ProducerPerformance steady-state records/sec');
  run.delivered = await countMeasured(cluster, topic, warmup, run);
  finishFigures(run, scenario.recordSize);
  return run;
}

function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** The most telling line of a failed child's stderr: its last error-looking line. */
function lastErrorLine(stderr: string): string {
  const lines = stderr.trim().split('\n').map((l) => l.trim()).filter(Boolean);
  const error = [...lines].reverse().find((l) => /error|exception|cannot|not found|does not provide/i.test(l) && !/^\s*at /.test(l));
  return (error ?? lines.at(-1) ?? '').slice(0, 200);
}

await main();
