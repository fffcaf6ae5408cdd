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
  /** Warm-up records go to their own topic so they never count. */
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
