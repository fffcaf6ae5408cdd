/**
 * Runs KafkaJS's own producer tests against kafka-wire/kafkajs and writes the per-test
 * results to docs/kafkajs-compat.md.
 *
 *   KAFKAJS_SRC=/path/to/kafkajs-checkout npx tsx scripts/kafkajs-compat/run.ts [--kafka 3.9.2] [--bootstrap host:port]
 *
 * It fetches nothing from KafkaJS's repository itself: it takes a checkout (of v2.2.4),
 * copies it into a temporary directory, and there
 *  - rewrites the producer specs' imports of the producer, of KafkaJS's errors and of its
 *    partitioners to kafka-wire/kafkajs (our built dist/, turned into CommonJS for Jest by
 *    babel-jest), through small adapter modules this script writes;
 *  - points the test helpers' broker addresses at a broker of our harness (started with
 *    `npm run broker -- start --name kafkajs-compat`, stopped at the end) instead of
 *    KafkaJS's Docker cluster; createTopic and the consumer used to check results stay
 *    KafkaJS's own, which is fine: they read what our producer wrote;
 *  - installs Jest and the test helpers' packages there with `npm install --no-save`;
 *  - runs Jest and reads its JSON report.
 * Nothing of KafkaJS's is written into this repository: only the report, whose every
 * not-applicable test and every failure carries a reason (from the tables below, or the
 * assertion's first line when a failure is not foreseen here).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REPORT = join(ROOT, 'docs/kafkajs-compat.md');
const BROKER_NAME = 'kafkajs-compat';

/** The producer's specs in KafkaJS's tree (its `src/producer/**\/*.spec.js`). */
const SPECS = [
  'src/producer/index.spec.js',
  'src/producer/compression.spec.js',
  'src/producer/__tests__/concurrentTransaction.spec.js',
  'src/producer/__tests__/idempotentProduceMessages.spec.js',
  'src/producer/__tests__/producingToInvalidTopic.spec.js',
  'src/producer/partitioners/legacy/index.spec.js',
  'src/producer/partitioners/legacy/murmur2.spec.js',
  'src/producer/partitioners/legacy/randomBytes.spec.js',
  'src/producer/partitioners/default/murmur2.spec.js',
  'src/producer/sendMessages.spec.js',
  'src/producer/createTopicData.spec.js',
  'src/producer/groupMessagesPerPartition.spec.js',
  'src/producer/eosManager/index.spec.js',
];

/** Whole spec files that test KafkaJS's internal modules, which have no counterpart in the drop-in's public API. */
const NA_FILES: Record<string, string> = {
  'src/producer/sendMessages.spec.js': "unit tests of KafkaJS's internal sendMessages() against mocked brokers and cluster; kafka-wire's sender is another design",
  'src/producer/createTopicData.spec.js': "unit test of an internal KafkaJS helper (request building); not part of the producer's API",
  'src/producer/groupMessagesPerPartition.spec.js': 'unit test of an internal KafkaJS helper; not part of the API',
  'src/producer/eosManager/index.spec.js': "unit tests of KafkaJS's internal transaction manager against a mocked cluster; kafka-wire's TransactionManager is tested in its own suite",
  'src/producer/partitioners/legacy/murmur2.spec.js': "tests KafkaJS's internal murmur2 module, which KafkaJS does not export; the drop-in's LegacyPartitioner is checked through legacy/index.spec.js",
  'src/producer/partitioners/default/murmur2.spec.js': "tests KafkaJS's internal murmur2 module (not exported); kafka-wire's murmur2 is checked against Java's in test/producer/partitioners",
  'src/producer/partitioners/legacy/randomBytes.spec.js': "tests KafkaJS's internal randomBytes helper; not part of the API",
};

/** Single tests that exercise KafkaJS internals rather than the producer's behaviour. */
const NA_TESTS: Array<[RegExp, string]> = [
  [/throws an error if the producer is disconnecting/, "replaces KafkaJS's internal cluster.disconnect() to slow it down; the drop-in does not use KafkaJS's Cluster"],
  [/reconnects the cluster if disconnected/, "disconnects KafkaJS's internal Cluster object behind the producer's back and checks cluster.isConnected(); the drop-in has no such object"],
  [/emits the request (timeout|queue size) event|emits the request event/, "injects KafkaJS's internal InstrumentationEventEmitter and network-layer mocks (enforceRequestTimeout, a mocked socket) into the cluster; test/kafkajs covers the drop-in's events"],
  [/sets the default retry value to MAX_SAFE_INTEGER|throws an error if retries < 1/, "spies on KafkaJS's internal retrier module (jest.mock('../retry')); the drop-in bounds retries by time (see docs/migrating-from-kafkajs.md)"],
  [/only calls initProducerId if unitialized/, "spies on KafkaJS's internal eosManager.initProducerId (jest.mock('./eosManager'))"],
  [/support SSL connections|support SASL|fails to authenticate/, "needs KafkaJS's Docker cluster's TLS/SASL listeners and certificates; kafka-wire's TLS and SASL are tested in test/security against the harness's secured listeners"],
  [/supports sending offsets/, "spies on KafkaJS's internal eosManager.sendOffsets and cluster.markOffsetAsCommitted; test/kafkajs sends offsets in a transaction through the drop-in"],
  [/transaction that is created after a transaction that hasn't made any operations/, "reads the end offsets back through cluster.fetchTopicsOffset, on KafkaJS's internal Cluster that its producer would have connected and loaded the topic into; the drop-in does not use that object"],
  [/compression not configured/, "its premise does not exist in kafka-wire, which ships Snappy, LZ4 and ZSTD (KafkaJS needs them registered in CompressionCodecs); outside Jest such a send succeeds. Under Jest's module sandbox the native codec packages fail to load, so the drop-in throws KafkaJSNotImplemented and the test would pass for the wrong reason"],
  [/retriable error/, "makes KafkaJS's internal broker.produce throw through jest.spyOn on the cluster's brokers; the drop-in does not use KafkaJS's brokers"],
];

/**
 * Why a test fails, for the failures this drop-in knows about, recognised by the failure's
 * text (a diff whose only changed lines are logStartOffset's), not by the test's name.
 */
const KNOWN_FAILURES: Array<[RegExp, string]> = [
  [/- Expected\s+- (\d+)\n\+ Received\s+\+ \1\n(?:(?:[ @].*|[-+]\s+"logStartOffset": "-?\d+",?)?\n)*(?:[ @].*)?$/, "kafka-wire does not keep the Produce response's log_start_offset, so the drop-in reports logStartOffset '-1' (Kafka's \"unknown\") where KafkaJS reports the broker's '0'; every other field matches"],
];

interface JestAssertion {
  fullName: string;
  ancestorTitles: string[];
  title: string;
  status: 'passed' | 'failed' | 'pending' | 'skipped' | 'todo' | 'disabled';
  failureMessages: string[];
}

interface JestReport {
  testResults: Array<{ name: string; message: string; assertionResults: JestAssertion[] }>;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string }> {
  return new Promise((res, rej) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout }));
  });
}

async function must(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const { code, stdout } = await run(command, args, cwd, env);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout}`);
  return stdout;
}

/** Adapters between KafkaJS's test-internal factories and the drop-in's public API. */
function adapters(dist: string): Record<string, string> {
  const entry = JSON.stringify(join(dist, 'kafkajs/index.js'));
  return {
    // KafkaJS's specs build producers with createProducer({ cluster, logger, ...options }).
    // The cluster is KafkaJS's (testHelpers.createCluster); the drop-in gets the options
    // that cluster was made from, and the producer options, through its public API.
    'compat/createProducer.js': `const { Kafka, logLevel } = require(${entry});
const OPTIONS = Symbol.for('kafka-wire.compat.clusterOptions');
const CLIENT_KEYS = ['brokers', 'ssl', 'sasl', 'clientId', 'connectionTimeout', 'requestTimeout', 'retry'];
// What KafkaJS's producer takes from its cluster. (Specs also pass createPartitioner to
// createCluster, where KafkaJS ignores it: the producer's own option is what counts.)
const PRODUCER_KEYS = ['metadataMaxAge', 'allowAutoTopicCreation', 'maxInFlightRequests'];
const pick = (from, keys) => Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
module.exports = ({ cluster, logger: _logger, instrumentationEmitter: _emitter, ...producerOptions }) => {
  const options = cluster[OPTIONS];
  const kafka = new Kafka({ ...pick(options, CLIENT_KEYS), logLevel: logLevel.NOTHING });
  return kafka.producer({ ...pick(options, PRODUCER_KEYS), ...producerOptions });
};
`,
    'compat/errors.js': `module.exports = require(${entry});\n`,
    'compat/partitioners.js': `const { Partitioners } = require(${entry});
module.exports = { Default: Partitioners.DefaultPartitioner, Legacy: Partitioners.LegacyPartitioner };
`,
  };
}

/** Rewrites a spec's imports of what the drop-in replaces; everything else stays KafkaJS's. */
function rewriteSpec(path: string, source: string, dir: string): string {
  const to = (file: string): string => JSON.stringify(relative(dirname(join(dir, path)), join(dir, file)).replace(/^(?!\.)/, './'));
  let out = source
    .replace(/require\('(\.\.?\/)(\.\.\/)*errors'\)/g, `require(${to('compat/errors.js')})`)
    .replace(/require\('uuid\/v4'\)/g, "require('node:crypto').randomUUID");
  if (path.includes('/partitioners/legacy/')) out = out.replace(/require\('\.\/index'\)/g, `require(${to('compat/partitioners.js')}).Legacy`);
  else out = out.replace(/require\('(\.\/|\.\.\/)index'\)/g, `require(${to('compat/createProducer.js')})`);
  return out;
}

/** Points KafkaJS's test helpers at our broker, and lets createCluster remember its options. */
function rewriteHelpers(source: string, bootstrap: string): string {
  const list = JSON.stringify(bootstrap.split(','));
  const replaced = source
    .replace(/const plainTextBrokers = \(host = getHost\(\)\) => \[[^\]]*\]/, `const plainTextBrokers = () => ${list}`)
    .replace(/brokers: \[`\$\{getHost\(\)\}:9092`\]/, `brokers: ${list}`)
    .replace(
      /const createCluster = \(opts = \{\}, brokers = plainTextBrokers\(\)\) =>\n\s*new Cluster\(Object\.assign\(connectionOpts\(\), opts, \{ brokers \}\)\)/,
      `const createCluster = (opts = {}, brokers = plainTextBrokers()) => {
  const options = Object.assign(connectionOpts(), opts, { brokers })
  return Object.assign(new Cluster(options), { [Symbol.for('kafka-wire.compat.clusterOptions')]: options })
}`,
    );
  if (replaced.includes(':9092`]') && !replaced.includes(list)) throw new Error('testHelpers/index.js: broker addresses not found where expected (is this KafkaJS 2.2.4?)');
  return replaced;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function reasonFor(test: JestAssertion, table: Array<[RegExp, string]>): string | undefined {
  return table.find(([re]) => re.test(test.fullName))?.[1];
}

function knownFailure(messages: string[]): string | undefined {
  // The diff alone: ANSI colours and the stack trace after it removed.
  const diff = messages.join('\n').replace(/\u001b\[[0-9;]*m/g, '').split('\n').filter((l) => !/^\s+at /.test(l)).join('\n').trim();
  return KNOWN_FAILURES.find(([re]) => re.test(diff))?.[1];
}

function firstLine(messages: string[]): string {
  const text = messages.join('\n').replace(/\u001b\[[0-9;]*m/g, '');
  const line = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('Error: expect(') && !l.startsWith('at ')) ?? 'failed';
  return line.length > 240 ? `${line.slice(0, 237)}...` : line;
}

interface Row {
  file: string;
  name: string;
  outcome: 'passed' | 'failed' | 'not applicable';
  reason: string;
}

function classify(report: JestReport, dir: string): Row[] {
  const rows: Row[] = [];
  for (const file of report.testResults) {
    const path = relative(dir, file.name);
    if (file.assertionResults.length === 0) {
      rows.push({ file: path, name: '(file)', outcome: 'failed', reason: `did not load: ${firstLine([file.message])}` });
      continue;
    }
    for (const t of file.assertionResults) {
      const row = { file: path, name: t.fullName };
      const na = NA_FILES[path] ?? reasonFor(t, NA_TESTS);
      // KafkaJS marks tests for brokers older than 0.11 skipped; our brokers are 3.9/4.x.
      if (t.status === 'pending' || t.status === 'skipped') rows.push({ ...row, outcome: 'not applicable', reason: 'skipped by KafkaJS itself for this broker version (testIfKafkaAtMost_0_10)' });
      else if (na) rows.push({ ...row, outcome: 'not applicable', reason: na });
      else if (t.status === 'passed') rows.push({ ...row, outcome: 'passed', reason: '' });
      else rows.push({ ...row, outcome: 'failed', reason: knownFailure(t.failureMessages) ?? firstLine(t.failureMessages) });
    }
  }
  return rows;
}

function markdown(rows: Row[], meta: { kafkajs: string; kafka: string; date: string }): string {
  const count = (o: Row['outcome']): number => rows.filter((r) => r.outcome === o).length;
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# KafkaJS\'s producer tests against kafka-wire/kafkajs',
    '',
    `Generated by \`scripts/kafkajs-compat/run.ts\` on ${meta.date}: KafkaJS ${meta.kafkajs}'s own producer specs`,
    `(\`src/producer/**/*.spec.js\`), their imports of the producer, errors and partitioners`,
    `switched to \`kafka-wire/kafkajs\`, run with Jest against one Apache Kafka ${meta.kafka} broker of`,
    'our harness. KafkaJS\'s test helpers (createTopic, its consumer where a test reads back) stay',
    'KafkaJS\'s own. Do not edit by hand: run the script (see its header).',
    '',
    `**${count('passed')} passed, ${count('failed')} failed, ${count('not applicable')} not applicable** (of ${rows.length}).`,
    '',
    '| spec | test | result | why |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${cell(r.file)} | ${cell(r.name)} | ${r.outcome} | ${cell(r.reason)} |`),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { kafka: { type: 'string', default: '3.9.2' }, bootstrap: { type: 'string' } } });
  const src = process.env.KAFKAJS_SRC;
  if (!src) {
    console.error('Set KAFKAJS_SRC to a checkout of KafkaJS (v2.2.4), e.g. git clone --branch v2.2.4 https://github.com/tulios/kafkajs');
    return 2;
  }
  const pkg = JSON.parse(await readFile(join(src, 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
  if (pkg.name !== 'kafkajs') throw new Error(`${src} is not a KafkaJS checkout`);

  await must('npm', ['run', '-s', 'build'], ROOT);
  const dir = await mkdtemp(join(tmpdir(), 'kafkajs-compat-'));
  let started = false;
  try {
    for (const part of ['index.js', 'src', 'testHelpers', 'package.json']) await cp(join(src, part), join(dir, part), { recursive: true });
    for (const [file, text] of Object.entries(adapters(join(ROOT, 'dist')))) {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      await writeFile(join(dir, file), text);
    }
    let bootstrap = values.bootstrap;
    if (!bootstrap) {
      bootstrap = (await must('npm', ['run', '-s', 'broker', '--', 'start', '--kafka', values.kafka!, '--name', BROKER_NAME], ROOT)).trim().split('\n')[0]!;
      started = true;
    }
    for (const spec of SPECS) await writeFile(join(dir, spec), rewriteSpec(spec, await readFile(join(dir, spec), 'utf8'), dir));
    const helpers = join(dir, 'testHelpers/index.js');
    await writeFile(helpers, rewriteHelpers(await readFile(helpers, 'utf8'), bootstrap));

    // Jest, babel-jest to load our ES-module dist from CommonJS specs, and what the helpers require.
    const dev = pkg.devDependencies;
    const deps = ['jest@29', 'babel-jest@29', '@babel/core@7', '@babel/plugin-transform-modules-commonjs@7', ...['jest-extended', 'execa', 'uuid', 'semver', 'jsonwebtoken', 'glob'].map((d) => `${d}@${dev[d]}`)];
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'kafkajs-compat-run', private: true }));
    await must('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', ...deps], dir);
    await writeFile(join(dir, 'babel.config.js'), "module.exports = { plugins: ['@babel/plugin-transform-modules-commonjs'] }\n");
    const jestConfig = {
      rootDir: dir,
      roots: [join(dir, 'src'), join(ROOT, 'dist')],
      moduleNameMapper: { '^testHelpers$': '<rootDir>/testHelpers/index.js' },
      setupFilesAfterEnv: ['<rootDir>/testHelpers/setup.js'],
      testEnvironment: 'node',
      // KafkaJS's snapshots were written by Jest 25, whose format printed prototypes.
      snapshotFormat: { escapeString: true, printBasicPrototype: true },
      testMatch: SPECS.map((s) => `<rootDir>/${s}`),
      // Our dist is ES modules outside rootDir: babel-jest turns it into CommonJS.
      transform: { [`^${escapeRegExp(join(ROOT, 'dist'))}/.+\\.js$`]: ['babel-jest', { configFile: join(dir, 'babel.config.js') }] },
      transformIgnorePatterns: ['/node_modules/'],
    };
    await writeFile(join(dir, 'jest.config.json'), JSON.stringify(jestConfig));
    const out = join(dir, 'results.json');
    await run(join(dir, 'node_modules/.bin/jest'), ['--config', join(dir, 'jest.config.json'), '--runInBand', '--forceExit', '--json', '--outputFile', out], dir, {
      KAFKA_VERSION: values.kafka!,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
    });
    const report = JSON.parse(await readFile(out, 'utf8')) as JestReport;
    const rows = classify(report, dir);
    await writeFile(REPORT, markdown(rows, { kafkajs: pkg.version, kafka: values.kafka!, date: new Date().toISOString().slice(0, 10) }));
    const n = (o: Row['outcome']): number => rows.filter((r) => r.outcome === o).length;
    console.log(`${n('passed')} passed, ${n('failed')} failed, ${n('not applicable')} not applicable: ${relative(ROOT, REPORT)}`);
    return 0;
  } finally {
    if (started) await run('npm', ['run', '-s', 'broker', '--', 'stop', '--name', BROKER_NAME], ROOT);
    if (!process.env.KEEP_SCRATCH) await rm(dir, { recursive: true, force: true });
    else console.error(`kept ${dir}`);
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
