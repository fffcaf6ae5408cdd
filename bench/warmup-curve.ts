/**
 * Where V8's warm-up ends: kafka-wire's CPU per record chunk by chunk through one fresh
 * process, on the main thread and on the others (V8's optimizing compiler and GC, libuv's
 * pool), median over a few processes. A benchmark run of a second or two is mostly spent
 * here; a producer that runs for hours is not. (The Go clients have no JIT: their first
 * chunk costs what their last does.)
 *
 *   npm run -s broker -- start                # prints the bootstrap address
 *   npm run build
 *   npx tsx bench/warmup-curve.ts --bootstrap 127.0.0.1:PORT [--scenario lz4|small] [--records N] [--chunk N] [--runs N] [--json]
 *
 * Defaults: lz4 (1 KiB records of repeated letters, as `npm run bench`'s lz4 scenario),
 * 3,000,000 records in chunks of 200,000, 3 processes. The measured process is
 * bench/lib/warmup-child.mjs under plain node with the built package (dist/, or --entry),
 * no TypeScript loader. Linux only (per-thread CPU from /proc/self/task).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTopic, waitUntilServed } from '../src/conformance/admin.js';
import { BrokerConnection } from '../src/net/broker-connection.js';
import { DeleteTopics } from '../src/protocol/apis/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PARTITIONS = 6;

const { values } = parseArgs({
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
const bootstrap = values.bootstrap ?? process.env['KAFKA_BOOTSTRAP'];
const scenario = values.scenario === 'small' ? { recordSize: 100, compression: 'none' } : values.scenario === 'lz4' ? { recordSize: 1024, compression: 'lz4' } : undefined;
const records = Number(values.records);
const chunk = Number(values.chunk);
const runs = Number(values.runs);
if (!bootstrap || !scenario || !(chunk > 0) || !(records >= chunk) || !(runs > 0)) {
  console.error('usage: npx tsx bench/warmup-curve.ts --bootstrap HOST:PORT [--scenario lz4|small] [--records N] [--chunk N] [--runs N] [--json]\n(start a broker with: npm run -s broker -- start)');
  process.exit(2);
}
if (process.platform !== 'linux') {
  console.error('warmup-curve reads per-thread CPU from /proc/self/task: Linux only');
  process.exit(2);
}
if (!existsSync(values.entry!)) {
  console.error(`${values.entry} does not exist: run npm run build first (or give --entry)`);
  process.exit(2);
}

interface Chunk {
  records: number;
  mainUs: number;
  otherUs: number;
  recordsPerSec: number;
}

const [host, port] = bootstrap.split(',')[0]!.split(':') as [string, string];
const admin = await BrokerConnection.open({ host, port: Number(port), clientId: 'warmup-curve-admin' });

async function oneProcess(run: number): Promise<Chunk[]> {
  const topic = `warmup-curve-${values.scenario}-${Date.now()}-${run}`;
  await createTopic(admin, topic, { partitions: PARTITIONS });
  await waitUntilServed(
    async () => admin,
    topic,
    Array.from({ length: PARTITIONS }, (_, p) => p),
  );
  try {
    const config = { entry: values.entry, bootstrap, topic, records, chunk, ...scenario };
    const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'lib', 'warmup-child.mjs'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the measured process exited with ${code}`);
    return (JSON.parse(out.trim().split('\n').pop()!) as { chunks: Chunk[] }).chunks;
  } finally {
    await admin.request(DeleteTopics, { topicNames: [topic], topics: [{ name: topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 30_000 }).catch(() => undefined);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const all: Chunk[][] = [];
for (let run = 1; run <= runs; run++) {
  console.error(`warmup-curve: process ${run} of ${runs}: ${records.toLocaleString('en-US')} records, ${values.scenario}`);
  all.push(await oneProcess(run));
}
await admin.close();

if (values.json) {
  console.log(JSON.stringify({ scenario: values.scenario, records, chunk, runs: all }, null, 2));
} else {
  console.log(`kafka-wire, ${values.scenario}: CPU µs per record in each chunk of ${chunk.toLocaleString('en-US')} (median of ${runs} processes)`);
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
