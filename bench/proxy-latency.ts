/**
 * The latency `kafka-wire proxy` adds per request: the same requests, one at a time,
 * straight to the broker and through the proxy, interleaved run by run; the report gives
 * the median over runs of each run's p50 and p99, and their difference.
 *
 *   npm run -s broker -- start                # prints the bootstrap address
 *   npx tsx bench/proxy-latency.ts --bootstrap 127.0.0.1:PORT [--requests 2000] [--runs 5] [--warmup 200] [--proxy-args "--json"]
 *
 * Two kinds of request:
 *   metadata  Metadata for one topic on a kafka-wire BrokerConnection (one round trip, no address to start a listener for after the first)
 *   produce   Producer.send of one 100-byte record, awaited (acks=all, linger 0): the producer's whole path, Produce answers decoded beside
 *
 * For reference, the same through a plain Node TCP relay (a pipe, nothing decoded): the
 * cost of any user-space hop on this machine.
 *
 * The proxy runs in its own process (`node --import tsx src/bin.ts proxy`), printing its
 * default one-line summaries to /dev/null, as a user would run it, so that it does not
 * share the measuring process's event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Producer } from '../src/index.js';
import { BrokerConnection } from '../src/net/broker-connection.js';
import { Metadata } from '../src/protocol/apis/index.js';
import { createTopic } from '../src/conformance/admin.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    bootstrap: { type: 'string' },
    requests: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '200' },
    'proxy-args': { type: 'string', default: '' },
  },
});
const bootstrap = values.bootstrap ?? process.env['KAFKA_BOOTSTRAP'];
if (!bootstrap) {
  console.error('usage: npx tsx bench/proxy-latency.ts --bootstrap HOST:PORT [--requests N] [--runs N] [--warmup N]\n(start a broker with: npm run -s broker -- start)');
  process.exit(2);
}
const REQUESTS = Number(values.requests);
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const [host, port] = bootstrap.split(',')[0]!.split(':') as [string, string];

async function startProxyProcess(): Promise<{ child: ChildProcess; address: string }> {
  const extra = values['proxy-args']!.split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/bin.ts'), 'proxy', '--upstream', `${host}:${port}`, '--listen', '127.0.0.1:0', ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /listening on (\S+) for/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the proxy exited with ${code}: ${err}`)));
  });
  child.stderr!.resume();
  return { child, address };
}

/**
 * For reference: a plain Node TCP relay (pipe both ways, nothing read), in its own
 * process; what any user-space hop costs here, whatever it does with the bytes.
 */
async function startRelayProcess(): Promise<{ child: ChildProcess; address: string }> {
  const script = `const net=require('net');const s=net.createServer({noDelay:true},(c)=>{const u=net.connect(${Number(port)},'${host}');u.setNoDelay(true);c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());c.on('close',()=>u.destroy());u.on('close',()=>c.destroy());});s.listen(0,'127.0.0.1',()=>console.log('relay '+s.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(`127.0.0.1:${/relay (\d+)/.exec(c.toString())![1]}`));
    child.once('exit', (code) => reject(new Error(`the relay exited with ${code}`)));
  });
  return { child, address };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timed(n: number, once: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await once();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

async function metadataRun(address: string, topic: string): Promise<number[]> {
  const [h, p] = address.split(':') as [string, string];
  const broker = await BrokerConnection.open({ host: h, port: Number(p) });
  try {
    const once = () => broker.request(Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: false });
    await timed(WARMUP, once);
    return await timed(REQUESTS, once);
  } finally {
    await broker.close();
  }
}

async function produceRun(address: string, topic: string): Promise<number[]> {
  const producer = new Producer({ bootstrap: address, clientId: 'proxy-latency', lingerMs: 0 });
  const value = Buffer.alloc(100, 120);
  try {
    const once = () => producer.send({ topic, value });
    await timed(WARMUP, once);
    return await timed(REQUESTS, once);
  } finally {
    await producer.close();
  }
}

const admin = await BrokerConnection.open({ host, port: Number(port) });
const topic = `proxy-latency-${Date.now().toString(36)}`;
await createTopic(admin, topic, { partitions: 1 });
await admin.close();
const proxy = await startProxyProcess();
const relay = await startRelayProcess();
console.log(`broker ${host}:${port}, proxy ${proxy.address} (separate process${values['proxy-args'] ? `, ${values['proxy-args']}` : ''}); ${RUNS} runs x ${REQUESTS} requests (+${WARMUP} warm-up) each, one at a time`);

const rows: string[] = [];
const f = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
const plus = (ms: number): string => `${ms >= 0 ? '+' : '−'}${f(Math.abs(ms))}`;
for (const [kind, run] of [
  ['metadata', metadataRun],
  ['produce', produceRun],
] as const) {
  const results = { direct: { p50: [] as number[], p99: [] as number[] }, relay: { p50: [] as number[], p99: [] as number[] }, proxy: { p50: [] as number[], p99: [] as number[] } };
  for (let r = 0; r < RUNS; r++) {
    // Interleaved, so that drift of the machine or the broker hits all alike.
    for (const [target, into] of [
      [`${host}:${port}`, results.direct],
      [relay.address, results.relay],
      [proxy.address, results.proxy],
    ] as const) {
      const sorted = await run(target, topic);
      into.p50.push(percentile(sorted, 50));
      into.p99.push(percentile(sorted, 99));
    }
  }
  const m = (k: keyof typeof results, p: 'p50' | 'p99'): number => median(results[k][p]);
  rows.push(
    `| ${kind} | ${f(m('direct', 'p50'))} | ${f(m('relay', 'p50'))} | ${f(m('proxy', 'p50'))} | **${plus(m('proxy', 'p50') - m('direct', 'p50'))}** | ${f(m('direct', 'p99'))} | ${f(m('relay', 'p99'))} | ${f(m('proxy', 'p99'))} | **${plus(m('proxy', 'p99') - m('direct', 'p99'))}** |`,
  );
  console.log(`${kind}: p50 direct ${f(m('direct', 'p50'))}, plain relay ${f(m('relay', 'p50'))}, kafka-wire proxy ${f(m('proxy', 'p50'))}; p99 ${f(m('direct', 'p99'))}, ${f(m('relay', 'p99'))}, ${f(m('proxy', 'p99'))} (medians of ${RUNS} runs)`);
}
console.log('\n| request | p50 direct | p50 plain relay | p50 kafka-wire proxy | added p50 | p99 direct | p99 plain relay | p99 kafka-wire proxy | added p99 |\n|---|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
relay.child.kill();
proxy.child.kill('SIGINT');
await new Promise((r) => proxy.child.once('exit', r));
