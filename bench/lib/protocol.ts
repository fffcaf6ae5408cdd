/**
 * What the orchestrator (bench/run.ts) hands a client runner, and the one JSON
 * line a runner prints back. Shared by both sides; no dependencies.
 */

export type Compression = 'none' | 'lz4' | 'zstd';

export interface ChildConfig {
  client: string;
  bootstrap: string;
  /** The measured records go here; the orchestrator counts its end offsets. */
  topic: string;
  /**
   * Where the warm-up records go: the measured topic itself (as ProducerPerformance's
   * --warmup-records), so the measured phase starts on a topic the client already writes to;
   * the orchestrator subtracts warmupRecords from its end offsets.
   */
  warmupTopic: string;
  partitions: number;
  records: number;
  warmupRecords: number;
  /** Bytes of each record's value; records have no headers. */
  recordSize: number;
  /**
   * Keyed scenarios: records carry one of this many distinct keys (keyBytes), record i the
   * key keyIndex(i, keys), the same sequence in every runner; absent, records have no key.
   */
  keys?: number;
  /**
   * Realistic scenarios: the file of the records to send (bench/lib/realistic.ts), each
   * a key and a value; record i is the file's record i % its count. recordSize is then
   * their average value size.
   */
  recordsFile?: string;
  compression: Compression;
  clientId: string;
  /** Per-record clients time every n-th record (per-send clients time every send). */
  latencySampleEvery: number;
  /** Client-specific tuning from `--opt client.key=value`. */
  options: Record<string, string>;
  /**
   * Latency scenarios: the offered rate of the measured phase, records/s (absent or 0: as fast
   * as the client takes them). Runners send in slices of PACE_SLICE_MS: at each slice the
   * records due by its end, catching up at most one missed slice (see pacedDue).
   */
  rate?: number;
  /** kafka-wire only: the built module to import (bench/.bin/kafka-wire/index.js); src/index.js when absent. */
  entry?: string;
}

export interface LatencySummary {
  /** per-record: from the produce call to that record's delivery report; per-send: from a batch send call to its resolution. */
  kind: 'per-record' | 'per-send';
  samples: number;
  /** Records each sample stands for (every n-th record, or records per send call). */
  recordsPerSample: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  /** 99.9th percentile (nearest rank); absent from results written before it was added. */
  p999Ms?: number;
  maxMs: number;
}

export interface ChildResult {
  client: string;
  version: string;
  idempotent: boolean;
  compression: Compression;
  records: number;
  acked: number;
  failed: number;
  firstError?: string;
  /** From just before the first measured send to the last measured ack. */
  elapsedMs: number;
  latency: LatencySummary;
  cpu: {
    /** process.cpuUsage() over the measured phase only (all threads of the process). */
    measuredUserS: number;
    measuredSystemS: number;
    /** process.cpuUsage() since the process started (module loading, connect, warm-up and measured phase). */
    processS: number;
  };
  /** process.resourceUsage().maxRSS: the process's peak, in KiB. */
  maxRssKiB: number;
  /** The settings the runner used, for the record. */
  settings: Record<string, unknown>;
  notes: string[];
  /**
   * Paced runs: the offered rate, and the records the schedule gave up because the sender
   * was more than a slice late (the achieved rate is below the offered one by about that).
   */
  paced?: { rate: number; droppedFromSchedule: number };
}

/** A runner's result line starts with this, so library logging on stdout cannot be mistaken for it. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

export function isCompression(value: string): value is Compression {
  return value === 'none' || value === 'lz4' || value === 'zstd';
}

/**
 * The key record `index` carries when a scenario has `keys` distinct keys: a multiplicative
 * hash of the index, so consecutive records spread over the keys and every runner (Node or
 * Go: bench/clients/go/child KeyIndex) picks the same ones.
 */
export function keyIndex(index: number, keys: number): number {
  return (Math.imul(index, 0x9e3779b1) >>> 0) % keys;
}

/** Key number i's bytes: `key-` and i in 8 digits (12 bytes). */
export function keyBytes(i: number): Buffer {
  return Buffer.from(`key-${String(i).padStart(8, '0')}`);
}

/** The time slice of paced sends, ms. */
export const PACE_SLICE_MS = 1;

/**
 * Pacing at `rate` records/s from `startMs`, in slices of PACE_SLICE_MS: how many records
 * may go now, given `sent` so far and `dropped` (records whose time was given up). At a
 * slice k (counted from the start) the records due by the end of slice k may go; if the
 * sender is more than one slice behind (a late timer, a long GC or callback), the records
 * of the older missed slices are dropped from the schedule instead of sent in a burst,
 * so no send catches up more than one slice. The schedule is then shifted: the achieved
 * rate shows the lost time. The same arithmetic as bench/clients/go/child Pacer.
 */
export function pacedDue(rate: number, elapsedMs: number, sent: number, dropped: number): { due: number; dropped: number; nextSliceInMs: number } {
  const slice = Math.floor(elapsedMs / PACE_SLICE_MS);
  const upTo = (k: number): number => Math.floor((rate * k * PACE_SLICE_MS) / 1000);
  const floor = upTo(slice - 1) - dropped;
  if (sent < floor) dropped += floor - sent;
  return { due: Math.max(0, upTo(slice + 1) - dropped - sent), dropped, nextSliceInMs: (slice + 1) * PACE_SLICE_MS - elapsedMs };
}
