// One fresh process of bench/warmup-curve.ts: produces `records` records with kafka-wire's
// built package and prints, for each chunk, the CPU it cost on the main thread and on all
// other threads (V8's compiler and GC threads, libuv's pool). Plain JavaScript run by plain
// node, so no TypeScript loader is in the process being measured.
//
//   node bench/lib/warmup-child.mjs '{"entry":"dist/index.js","bootstrap":"127.0.0.1:9092","topic":"t",
//                                     "recordSize":1024,"compression":"lz4","records":2000000,"chunk":100000}'
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2]);
// Started by bench/warmup-curve.ts with an IPC channel: when that process is gone, stop too.
// The channel alone does not keep this process alive.
process.on('disconnect', () => process.exit(1));
process.channel?.unref();

const { Producer } = await import(pathToFileURL(config.entry).href);
if (typeof Producer !== 'function') {
  console.error(`warmup-curve: ${config.entry} exports no Producer class: --entry must be the package's main entry (dist/index.js)`);
  process.exit(1);
}

/** CPU ms of the main thread and of all others so far (Linux: /proc/self/task/<tid>/schedstat). */
function threadCpuMs() {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    if (Number(tid) === process.pid) main += ns;
    else other += ns;
  }
  return { main: main / 1e6, other: other / 1e6 };
}

const value = Buffer.alloc(config.recordSize);
for (let i = 0; i < value.length; i++) value[i] = 65 + (i % 26);
const producer = new Producer({
  bootstrap: config.bootstrap,
  clientId: 'warmup-curve',
  acks: -1,
  idempotent: true,
  compression: config.compression,
  lingerMs: 5,
});
await producer.connect();

// As the benchmark's runner: at most `window` records unacknowledged (what fits 32 MiB),
// offered 1,000 at a time. A chunk's figures are taken when its last record is acknowledged,
// while the next chunk's records are already in flight: the pipeline never drains.
const window = Math.min(100_000, Math.floor((32 * 1024 * 1024) / (config.recordSize + 64)));
const record = { topic: config.topic, value };
const chunks = [];
let before = threadCpuMs();
let startedAt = performance.now();
let acked = 0;
let wake;
let wakeAt = 0;
const done = (error) => {
  if (error) {
    // A failed record would count in its chunk as if delivered: the figures would be wrong.
    console.error(`warmup-curve: a record failed: ${error.message}`);
    process.exit(1);
  }
  acked++;
  if (acked % config.chunk === 0) {
    const now = threadCpuMs();
    const at = performance.now();
    chunks.push({
      records: acked,
      mainUs: ((now.main - before.main) * 1000) / config.chunk,
      otherUs: ((now.other - before.other) * 1000) / config.chunk,
      recordsPerSec: (config.chunk / (at - startedAt)) * 1000,
    });
    before = now;
    startedAt = at;
  }
  if (wake && acked >= wakeAt) {
    const w = wake;
    wake = undefined;
    w();
  }
};
const ackedUpTo = (n) => (acked >= n ? Promise.resolve() : new Promise((resolve) => ((wakeAt = n), (wake = resolve))));

let sent = 0;
while (sent < config.records) {
  if (sent - acked >= window) {
    await ackedUpTo(sent - window + 1000);
    continue;
  }
  const until = Math.min(config.records, sent + 1000, acked + window);
  for (; sent < until; sent++) producer.produce(record, done);
  await new Promise((resolve) => setImmediate(resolve));
}
await ackedUpTo(config.records);
await producer.close();
console.log(JSON.stringify({ chunks }));
