/**
 * Other people's Kafka clients through `kafka-wire proxy`, against a harness broker: each
 * must work unchanged (records produced and read back in a consumer group that joins,
 * fetches and commits), every connection it opens must go through the proxy (the
 * addresses in answers point at the proxy, and the group and fetch traffic shows up there),
 * and every frame it exchanges must decode whole: no decode failure, no unknown tagged field.
 *
 * KafkaJS 2.2.4 and @confluentinc/kafka-javascript (librdkafka) come from bench/node_modules:
 * when that is absent (a fresh clone), the KafkaJS test installs bench's plain JavaScript
 * dependencies and the librdkafka test runs bench/setup.sh (which compiles librdkafka,
 * many minutes while other test files run); a client that still cannot load is skipped
 * with the reason.
 * Kafka's console producer and consumer run from the harness's Kafka jars; franz-go is built
 * from scripts/proxy-clients/franz/ with Go, and skipped when Go is absent.
 */
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { ensureKafka } from '../../scripts/kafka/dist.js';
import { TOOL_JVM_OPTIONS, javaBinary } from '../../scripts/kafka/java.js';
import { loggingSystemProperty, toolLoggingConfigFile } from '../../scripts/kafka/logging.js';
import { REPO_ROOT } from '../../scripts/kafka/paths.js';
import { trackChild } from '../../scripts/kafka/reaper.js';
import { consoleConsume } from '../../scripts/kafka/tools.js';
import { ensureFranzClient, hasGo } from '../../scripts/proxy-clients/franz.js';
import { hasDecodeProblem, summaryLine, type Exchange, type ProxyStats } from '../../src/proxy/index.js';
import { startProxy, type Proxy } from '../../src/proxy/proxy.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const cluster = singleNodeClusters()[0]!;
const BENCH = path.join(REPO_ROOT, 'bench');
const requireFromBench = createRequire(path.join(BENCH, 'package.json'));
const RECORDS = 10;

const proxies: Proxy[] = [];

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

interface Run {
  proxy: Proxy;
  bootstrap: string;
  exchanges: Exchange[];
}

async function proxied(): Promise<Run> {
  const [host, port] = cluster.bootstrap.split(',')[0]!.split(':') as [string, string];
  const exchanges: Exchange[] = [];
  const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host, port: Number(port) }, onExchange: (ex) => exchanges.push(ex) });
  proxies.push(proxy);
  return { proxy, bootstrap: `127.0.0.1:${proxy.address.port}`, exchanges };
}

/** Waits a moment for the last answers to be shown, then closes the proxy. */
async function finish(run: Run): Promise<ProxyStats> {
  await new Promise((r) => setTimeout(r, 200));
  await run.proxy.close();
  return run.proxy.stats;
}

/** Everything decoded, the group and fetch traffic went through the proxy, addresses were rewritten. */
function expectFullyDecoded(name: string, run: Run, stats: ProxyStats, apis: readonly string[], knownTrailing?: (ex: Exchange) => boolean): void {
  const lines = run.exchanges.map(summaryLine);
  console.log(`--- ${name} through kafka-wire proxy (${run.exchanges.length} exchanges) ---\n${lines.join('\n')}\n${JSON.stringify(stats)}`);
  const trailingOnly = (ex: Exchange): boolean =>
    knownTrailing !== undefined && knownTrailing(ex) && [ex.request, ex.response].every((s) => !s || (s.decoded !== undefined && s.error === undefined && s.unknownFields === 0));
  const problems = run.exchanges.filter((ex) => hasDecodeProblem(ex) && !trailingOnly(ex)).map(summaryLine);
  expect(problems, `${name}: exchanges not fully decoded`).toEqual([]);
  expect(stats.undecoded).toBe(0);
  expect(stats.unknownFields).toBe(0);
  if (!knownTrailing) expect(stats.withTrailingBytes).toBe(0);
  expect(stats.rewrites).toBeGreaterThan(0);
  const seen = new Set(run.exchanges.map((ex) => ex.api));
  for (const api of apis) expect(seen, `${name} sent no ${api} through the proxy`).toContain(api);
}

const CONSUMER_APIS = ['Metadata', 'Produce', 'FindCoordinator', 'JoinGroup', 'SyncGroup', 'Fetch', 'OffsetCommit'];

async function newTopic(prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix);
  // A connection per topic: the first test may wait many minutes for bench/setup.sh, longer
  // than the broker keeps an idle connection open (connections.max.idle.ms, 10 minutes).
  const admin = await openBroker(cluster);
  try {
    await createTopic(admin, topic, { partitions: 2 });
  } finally {
    await admin.close();
  }
  return topic;
}

/** The little of the KafkaJS API (and of librdkafka's KafkaJS-shaped one) this test uses. */
interface KjsMessage {
  value: Buffer | null;
}
interface KjsProducer {
  connect(): Promise<void>;
  send(args: { topic: string; messages: { key: string; value: string }[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface KjsConsumer {
  connect(): Promise<void>;
  subscribe(args: { topic: string; fromBeginning?: boolean }): Promise<void>;
  run(args: { autoCommitThreshold?: number; eachMessage: (p: { message: KjsMessage }) => Promise<void> }): Promise<void>;
  commitOffsets(offsets?: unknown): Promise<void>;
  disconnect(): Promise<void>;
}
interface KjsKafka {
  producer(): KjsProducer;
  consumer(args: object): KjsConsumer;
}
interface KafkaJSModule {
  Kafka: new (config: object) => KjsKafka;
  logLevel: { NOTHING: number };
}

let benchInstall: Promise<string | undefined> | undefined;
let benchJsInstall: Promise<string | undefined> | undefined;

/**
 * Whether bench/node_modules has `name`, asked of the file system: a failed
 * require.resolve is remembered by Node for the rest of the process, so the package
 * would stay unresolvable after the install that the check led to.
 */
function inBench(name: string): boolean {
  return existsSync(path.join(BENCH, 'node_modules', ...name.split('/'), 'package.json'));
}

/**
 * benchModule for a package without native code (KafkaJS): bench's dependencies without
 * the optional librdkafka binding, a few seconds instead of the minutes its compile takes.
 */
function benchJsModule(name: string): Promise<string | undefined> {
  if (inBench(name)) return Promise.resolve(undefined);
  benchJsInstall ??= promisify(execFile)('npm', ['install', '--omit=optional', '--no-audit', '--no-fund'], { cwd: BENCH, timeout: 300_000 }).then(
    () => undefined,
    (err: Error) => `npm install in bench/ failed: ${err.message.split('\n')[0]}`,
  );
  return benchJsInstall.then((failed) => (inBench(name) ? undefined : (failed ?? `${name} is not in bench/node_modules after npm install`)));
}

/** undefined when bench/node_modules has `name`; else why not, after trying to install it once. */
function benchModule(name: string): Promise<string | undefined> {
  const has = (): boolean => inBench(name);
  if (has()) return Promise.resolve(undefined);
  // bench/setup.sh installs what librdkafka's build needs (Debian's -dev packages) and
  // compiles it against them: no prebuilt binary is reachable here, and its default static
  // build downloads sources this machine cannot fetch (about 85 s on two cores).
  // At the lowest CPU priority: the compile must not starve the test files running beside
  // this one (a JVM console consumer waiting 8 s for its first record once gave up).
  benchInstall ??= promisify(execFile)('nice', ['-n', '19', 'bash', path.join(BENCH, 'setup.sh')], { timeout: 1_200_000 }).then(
    () => undefined,
    (err: Error) => `bench/setup.sh failed: ${err.message.split('\n')[0]}`,
  );
  return benchInstall.then((failed) => (has() ? undefined : (failed ?? `${name} is not in bench/node_modules after bench/setup.sh`)));
}

function skip(ctx: TestContext, reason: string): void {
  console.log(`skipped: ${reason}`);
  ctx.skip();
}

describe('other clients through kafka-wire proxy', () => {
  it('KafkaJS 2.2.4 producer and consumer group', { timeout: 420_000 }, async (ctx) => {
    const missing = await benchJsModule('kafkajs');
    if (missing) return skip(ctx, `KafkaJS: ${missing}`);
    const { Kafka, logLevel } = requireFromBench('kafkajs') as KafkaJSModule;
    const topic = await newTopic('proxy-kjs');
    const run = await proxied();
    const kafka = new Kafka({ clientId: 'kafkajs-via-proxy', brokers: [run.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `kafkajs-${i}` })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommitThreshold: 1,
          eachMessage: async ({ message }) => {
            values.push(message.value!.toString());
            if (values.length === RECORDS) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(values.sort()).toEqual(Array.from({ length: RECORDS }, (_, i) => `kafkajs-${i}`).sort());
    expectFullyDecoded('KafkaJS', run, await finish(run), [...CONSUMER_APIS, 'LeaveGroup']);
  });

  it("Kafka's console producer and consumer (Java)", { timeout: 240_000 }, async (ctx) => {
    if (cluster.toolsVersion === null) return skip(ctx, `Kafka's tools: no Kafka jars for ${cluster.name}`);
    const dist = await ensureKafka(cluster.toolsVersion);
    const producerClass = ['org.apache.kafka.tools.ConsoleProducer', 'kafka.tools.ConsoleProducer'].find((c) => dist.hasClass(c));
    if (!producerClass) return skip(ctx, `Kafka's tools: no ConsoleProducer class in Kafka ${cluster.toolsVersion}`);
    const topic = await newTopic('proxy-java');
    const run = await proxied();
    const loggingConfig = await toolLoggingConfigFile(dist.logging);
    const input = Array.from({ length: RECORDS }, (_, i) => `java-${i}`).join('\n') + '\n';
    const produced = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(
        javaBinary(),
        [...TOOL_JVM_OPTIONS, loggingSystemProperty(dist.logging, loggingConfig), '-cp', dist.classpath, producerClass, '--bootstrap-server', run.bootstrap, '--topic', topic],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      trackChild(child);
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stderr }));
      child.stdin.end(input);
    });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await consoleConsume({ version: cluster.toolsVersion, bootstrap: run.bootstrap }, { topic, maxMessages: RECORDS, group: `${topic}-group`, timeoutMs: 20_000 });
    expect(consumed.messages.sort()).toEqual(input.trim().split('\n').sort());
    expectFullyDecoded("Kafka's console producer and consumer", run, await finish(run), CONSUMER_APIS);
  });

  it('librdkafka (@confluentinc/kafka-javascript) producer and consumer group', { timeout: 1_260_000 }, async (ctx) => {
    const missing = await benchModule('@confluentinc/kafka-javascript');
    if (missing) return skip(ctx, `librdkafka: ${missing} (an optional dependency of bench/)`);
    let KafkaJS: KafkaJSModule;
    try {
      KafkaJS = (requireFromBench('@confluentinc/kafka-javascript') as { KafkaJS: KafkaJSModule }).KafkaJS;
    } catch (err) {
      return skip(ctx, `librdkafka: @confluentinc/kafka-javascript does not load: ${(err as Error).message.split('\n')[0]}`);
    }
    const topic = await newTopic('proxy-rdkafka');
    const run = await proxied();
    const kafka = new KafkaJS.Kafka({ kafkaJS: { clientId: 'librdkafka-via-proxy', brokers: [run.bootstrap], logLevel: KafkaJS.logLevel.NOTHING } });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i}`, value: `rdkafka-${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ kafkaJS: { groupId: `${topic}-group`, fromBeginning: true } });
    await consumer.connect();
    await consumer.subscribe({ topic });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value!.toString());
            if (values.length === RECORDS) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.commitOffsets();
    await consumer.disconnect();
    expect(values.sort()).toEqual(Array.from({ length: RECORDS }, (_, i) => `rdkafka-${i}`).sort());
    // librdkafka's group protocol depends on the client version; the classic one uses these.
    // librdkafka ends its Metadata requests with 3 bytes (01 00 00) that no field of
    // MetadataRequest accounts for; the broker reads the fields and ignores them, and so
    // does the proxy, which shows and counts them. Nothing else may be left over.
    const metadataTrailer = (ex: Exchange): boolean =>
      ex.api === 'Metadata' && ex.request !== undefined && ex.request.trailing > 0 && (ex.response === undefined || ex.response.trailing === 0);
    expectFullyDecoded('librdkafka', run, await finish(run), ['Metadata', 'Produce', 'FindCoordinator', 'Fetch', 'OffsetCommit'], metadataTrailer);
  });

  it('franz-go producer and consumer group', { timeout: 600_000 }, async (ctx) => {
    if (!(await hasGo())) return skip(ctx, 'franz-go: no Go toolchain (go) on this machine');
    let binary: string;
    try {
      binary = await ensureFranzClient();
    } catch (err) {
      return skip(ctx, `franz-go: scripts/proxy-clients/franz did not build: ${(err as Error).message.split('\n')[0]}`);
    }
    expect(existsSync(binary)).toBe(true);
    const topic = await newTopic('proxy-franz');
    const run = await proxied();
    const { stdout } = await promisify(execFile)(binary, ['-brokers', run.bootstrap, '-topic', topic, '-group', `${topic}-group`, '-n', String(RECORDS)], { timeout: 90_000 });
    expect(stdout).toContain(`produced ${RECORDS}`);
    expect(stdout).toContain(`consumed ${RECORDS}`);
    expectFullyDecoded('franz-go', run, await finish(run), CONSUMER_APIS);
  });
});
