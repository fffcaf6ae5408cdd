/**
 * Where V8's warm-up ends: kafka-wire's CPU per record chunk by chunk through one fresh
 * process, on the main thread and on the others (V8's optimizing compiler and GC, libuv's
 * pool), median over a few processes. A benchmark run of a second or two is mostly spent
 * here; a producer that runs for hours is not. (The Go clients have no JIT: their first
 * chunk costs what their last does.)
 *
 *   npm run -s broker -- start                # prints the bootstrap address
 *   npm run build
 *   npx tsx bench/warmup-curve.ts --bootstrap 127.0.0.1:PORT [--scenario lz4|small] [--records N] [--chunk N] [--runs N] [--entry FILE] [--json]
 *
 * Defaults: lz4 (1 KiB records of repeated letters, as `npm run bench`'s lz4 scenario),
 * 3,000,000 records in chunks of 200,000, 3 processes. The measured process is
 * bench/lib/warmup-child.mjs under plain node with the built package (dist/, or --entry),
 * no TypeScript loader. Linux only (per-thread CPU from /proc/self/task).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTopic, waitUntilServed } from '../src/conformance/admin.js';
import { BrokerConnection } from '../src/net/broker-connection.js';
import { DeleteTopics } from '../src/protocol/apis/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PARTITIONS = 6;

const USAGE = `usage: npx tsx bench/warmup-curve.ts --bootstrap HOST:PORT [--scenario lz4|small] [--records N] [--chunk N] [--runs N] [--entry FILE] [--json]
  --bootstrap   a broker on loopback (or KAFKA_BOOTSTRAP); start one with: npm run -s broker -- start
  --records     records per process, a multiple of --chunk (default 3000000)
  --chunk       records per reported chunk (default 200000)
  --runs        fresh processes; each chunk's figures are their median (default 3)
  --entry       the built package's entry (default dist/index.js; npm run build)`;

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      bootstrap: { type: 'string' },
      scenario: { type: 'string', default: 'lz4' },
      records: { type: 'string', default: '3000000' },
      chunk: { type: 'string', default: '200000' },
      runs: { type: 'string', default: '3' },
      entry: { type: 'string', default: path.join(ROOT, 'dist', 'index.js') },
      json: { type: 'boolean', default: false },
    },
  });
}
try {
  values = parse().values;
} catch (err) {
  usage((err as Error).message);
}

function positiveInteger(name: 'records' | 'chunk' | 'runs'): number {
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < 1) usage(`--${name} must be a positive integer, got ${JSON.stringify(values[name])}`);
  return n;
}
const bootstrap = values.bootstrap ?? process.env['KAFKA_BOOTSTRAP'];
if (!bootstrap) usage('--bootstrap is required');
const [host, port] = bootstrap.split(',')[0]!.split(':') as [string, string | undefined];
if (!host || !port || !/^\d+$/.test(port)) usage(`--bootstrap must be HOST:PORT, got ${JSON.stringify(bootstrap)}`);
const scenario = values.scenario === 'small' ? { recordSize: 100, compression: 'none' } : values.scenario === 'lz4' ? { recordSize: 1024, compression: 'lz4' } : undefined;
if (!scenario) usage(`--scenario must be lz4 or small, got ${JSON.stringify(values.scenario)}`);
const records = positiveInteger('records');
const chunk = positiveInteger('chunk');
const runs = positiveInteger('runs');
if (records % chunk !== 0) usage(`--records (${records}) must be a multiple of --chunk (${chunk}): every chunk is reported, so none may be partial`);
if (process.platform !== 'linux') {
  console.error('warmup-curve reads per-thread CPU from /proc/self/task: Linux only');
  process.exit(2);
}
if (!existsSync(values.entry!)) usage(`${values.entry} does not exist: run npm run build first (or give --entry)`);

interface Chunk {
  records: number;
  mainUs: number;
  otherUs: number;
  recordsPerSec: number;
}

let admin: BrokerConnection;
try {
  admin = await BrokerConnection.open({ host, port: Number(port), clientId: 'warmup-curve-admin' });
} catch (err) {
  console.error(`warmup-curve: ${(err as Error).message}`);
  process.exit(1);
}

/** The topic and process of the run under way, for an interrupt to clean up. */
let current: { topic: string; child?: ChildProcess } | undefined;

function deleteTopic(topic: string): Promise<void> {
  return admin
    .request(DeleteTopics, { topicNames: [topic], topics: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 30_000 })
    .then((answer) => {
      const code = answer.response.responses[0]?.errorCode ?? 0;
      if (code !== 0) console.error(`warmup-curve: could not delete topic ${topic} (error code ${code})`);
    })
    .catch((err: Error) => console.error(`warmup-curve: could not delete topic ${topic}: ${err.message}`));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    const run = current;
    run?.child?.kill();
    void (run ? deleteTopic(run.topic) : Promise.resolve()).finally(() => process.exit(130));
  });
}

async function oneProcess(run: number): Promise<Chunk[]> {
  const topic = `warmup-curve-${values.scenario}-${Date.now()}-${run}`;
  current = { topic };
  try {
    await createTopic(admin, topic, { partitions: PARTITIONS });
    await waitUntilServed(
      async () => admin,
      topic,
      Array.from({ length: PARTITIONS }, (_, p) => p),
    );
    const config = { entry: values.entry, bootstrap, topic, records, chunk, ...scenario };
    // An IPC channel only so that the child can tell when this process is gone (it exits then).
    const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'lib', 'warmup-child.mjs'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    current.child = child;
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the measured process exited with ${code}`);
    return (JSON.parse(out.trim().split('\n').pop()!) as { chunks: Chunk[] }).chunks;
  } finally {
    await deleteTopic(topic);
    current = undefined;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const all: Chunk[][] = [];
try {
  for (let run = 1; run <= runs; run++) {
    console.error(`warmup-curve: process ${run} of ${runs}: ${records.toLocaleString('en-US')} records, ${values.scenario}`);
    all.push(await oneProcess(run));
  }
} catch (err) {
  console.error(`warmup-curve: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await admin.close();
}
if (process.exitCode) process.exit();

if (values.json) {
  console.log(JSON.stringify({ scenario: values.scenario, records, chunk, runs: all }, null, 2));
} else {
  console.log(`kafka-wire, ${values.scenario}: CPU µs per record in each chunk of ${chunk.toLocaleString('en-US')} (median of ${runs} ${runs === 1 ? 'process' : 'processes'})`);
  console.log('| records | main thread | other threads | total | records/s |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (let i = 0; i < all[0]!.length; i++) {
    const at = (f: (c: Chunk) => number): number => median(all.map((chunks) => f(chunks[i]!)));
    const main = at((c) => c.mainUs);
    const other = at((c) => c.otherUs);
    const total = at((c) => c.mainUs + c.otherUs);
    console.log(`| ${all[0]![i]!.records.toLocaleString('en-US')} | ${main.toFixed(2)} | ${other.toFixed(2)} | ${total.toFixed(2)} | ${Math.round(at((c) => c.recordsPerSec)).toLocaleString('en-US')} |`);
  }
}
