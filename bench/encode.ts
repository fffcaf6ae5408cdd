/**
 * Cost of building a finished record batch (CRC included) with RecordBatchBuilder,
 * against a floor measured in the same run: copying the same key and value bytes into
 * one buffer and taking their CRC-32C, which any encoder has to do.
 *
 *   npx tsx bench/encode.ts          (npm run bench:encode)
 *
 * Prints a table and writes bench/results/encode.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32c } from '../src/protocol/records/crc32c.js';
import { RecordBatchBuilder } from '../src/protocol/records/builder.js';
import type { RecordInput } from '../src/protocol/records/record.js';

const RECORDS = 1000;
const KEY_BYTES = 14;
const VALUE_BYTES = 100;
const WARMUP_MS = 2000;
/** Pairs of samples (floor, then builder), each of BATCHES_PER_SAMPLE batches. */
const SAMPLES = 301;
const BATCHES_PER_SAMPLE = 10;
const TARGET_RATIO = 1.3;

function makeRecords(): RecordInput[] {
  const base = 1_700_000_000_000;
  const records: RecordInput[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const key = Buffer.alloc(KEY_BYTES);
    key.write(`key-${String(i).padStart(KEY_BYTES - 4, '0')}`, 'latin1');
    const value = Buffer.alloc(VALUE_BYTES, i & 0xff);
    // A busy producer: a handful of records per millisecond.
    records.push({ key, value, timestamp: base + (i >> 3) });
  }
  return records;
}

const records = makeRecords();
const pool = Buffer.alloc(1 << 20);
let sink = 0;

function buildBatch(): void {
  const builder = new RecordBatchBuilder(pool);
  for (let i = 0; i < records.length; i++) {
    if (!builder.tryAppend(records[i]!)) throw new Error('bench records do not fit the pool buffer');
  }
  sink ^= builder.finish({ producerId: 4242, producerEpoch: 0, baseSequence: 0 }).length;
}

function copyAndChecksum(): void {
  let offset = 0;
  for (let i = 0; i < records.length; i++) {
    const { key, value } = records[i]! as { key: Buffer; value: Buffer };
    pool.set(key, offset);
    offset += key.length;
    pool.set(value, offset);
    offset += value.length;
  }
  sink ^= crc32c(pool, 0, offset);
}

/** Nanoseconds per batch for `fn`, over one sample. */
function sample(fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < BATCHES_PER_SAMPLE; i++) fn();
  return Number(process.hrtime.bigint() - start) / BATCHES_PER_SAMPLE;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function warmUp(fn: () => void): void {
  const until = Date.now() + WARMUP_MS;
  while (Date.now() < until) fn();
}

warmUp(copyAndChecksum);
warmUp(buildBatch);

// Short samples, alternating, so that load from other processes hits both alike; the
// ratio of each pair is the figure least disturbed by it.
const floorSamples: number[] = [];
const builderSamples: number[] = [];
const pairRatios: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const floor = sample(copyAndChecksum);
  const builder = sample(buildBatch);
  floorSamples.push(floor);
  builderSamples.push(builder);
  pairRatios.push(builder / floor);
}

const perRecord = (nsPerBatch: number): number => nsPerBatch / RECORDS;
const floorNs = perRecord(median(floorSamples));
const builderNs = perRecord(median(builderSamples));
const ratio = builderNs / floorNs;
const pairedRatio = median(pairRatios);

const rows = [
  { case: 'floor: copy key+value, CRC-32C', nsPerRecord: floorNs },
  { case: 'RecordBatchBuilder + finish', nsPerRecord: builderNs },
];
console.log(
  `${RECORDS} records, ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values; medians of ${SAMPLES} samples of ${BATCHES_PER_SAMPLE} batches (node ${process.version})`,
);
console.log('');
console.log(`${'case'.padEnd(34)} ${'ns/record'.padStart(10)} ${'records/s'.padStart(12)}`);
for (const row of rows) {
  console.log(
    `${row.case.padEnd(34)} ${row.nsPerRecord.toFixed(1).padStart(10)} ${Math.round(1e9 / row.nsPerRecord)
      .toLocaleString('en-US')
      .padStart(12)}`,
  );
}
console.log('');
console.log(
  `builder/floor: ${ratio.toFixed(3)}x (median of paired samples ${pairedRatio.toFixed(3)}x); target <= ${TARGET_RATIO}x${ratio <= TARGET_RATIO ? '' : '  ** over target **'}`,
);

const resultsPath = join(dirname(fileURLToPath(import.meta.url)), 'results', 'encode.json');
mkdirSync(dirname(resultsPath), { recursive: true });
writeFileSync(
  resultsPath,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      records: RECORDS,
      keyBytes: KEY_BYTES,
      valueBytes: VALUE_BYTES,
      samples: SAMPLES,
      batchesPerSample: BATCHES_PER_SAMPLE,
      floor: { nsPerRecord: round(floorNs), recordsPerSecond: Math.round(1e9 / floorNs) },
      builder: { nsPerRecord: round(builderNs), recordsPerSecond: Math.round(1e9 / builderNs) },
      ratio: round(ratio, 3),
      pairedRatio: round(pairedRatio, 3),
      targetRatio: TARGET_RATIO,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${resultsPath}`);
if (sink === 0.5) console.log(sink); // keeps the results observable to the optimiser

function round(v: number, digits = 1): number {
  return Number(v.toFixed(digits));
}
