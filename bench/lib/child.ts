/**
 * The part every Node client runner shares: read the config, connect, a
 * warm-up phase that does not count, the measured phase, one JSON result line.
 *
 * A runner only knows how to connect, produce `records` records to a topic
 * and close; timing, CPU and memory are taken here, the same way for all.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LatencyRecorder } from './latency.js';
import { readRecordsFile } from './realistic.js';
import { keyBytes, keyIndex, pacedDue, RESULT_PREFIX, type ChildConfig, type ChildResult, type LatencySummary } from './protocol.js';

export interface Phase {
  topic: string;
  records: number;
  /** The same bytes for every record, as in Kafka's ProducerPerformance. */
  payload: Buffer;
  /** Keyed scenarios: the distinct keys; record i carries keys[keyIndex(i, keys.length)]. */
  keys: Buffer[] | undefined;
  /** Realistic scenarios: record i is pool.keys[i % n] and pool.values[i % n] (payload and keys unused). */
  pool: { keys: Buffer[]; values: Buffer[] } | undefined;
  latency: LatencyRecorder;
  /** Per-record runners time every n-th record. */
  sampleEvery: number;
  /** Offered rate, records/s, for Pump (0: as fast as the client takes them); the warm-up has the measured phase's. */
  rate: number;
}

/** Record number `index`'s key in a phase: the realistic pool's, one of the distinct keys, or none. */
export function keyAt(phase: Phase, index: number): Buffer | null {
  const { pool, keys } = phase;
  if (pool) return pool.keys[index % pool.keys.length]!;
  return keys ? keys[keyIndex(index, keys.length)]! : null;
}

/** Record number `index`'s value in a phase: the realistic pool's, or the one payload. */
export function valueAt(phase: Phase, index: number): Buffer {
  const { pool } = phase;
  return pool ? pool.values[index % pool.values.length]! : phase.payload;
}

export interface PhaseOutcome {
  acked: number;
  failed: number;
  firstError?: string;
  /** Paced phases: records whose send time passed while the sender was more than a slice late, given up by the schedule (pacedDue). */
  droppedFromSchedule?: number;
}

export interface ClientRunner {
  version: string;
  idempotent: boolean;
  latencyKind: LatencySummary['kind'];
  /** For per-send runners: records per send call. */
  recordsPerSend?: number;
  settings: Record<string, unknown>;
  notes?: string[];
  connect(): Promise<void>;
  /** Resolves as soon as the last record of the phase is acknowledged (or failed). */
  produce(phase: Phase): Promise<PhaseOutcome>;
  close(): Promise<void>;
}

export function readConfig(): ChildConfig {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: <runner> <config JSON>');
  return JSON.parse(raw) as ChildConfig;
}

/**
 * Bench dependencies live in bench/node_modules and are loaded through
 * require, so the root `tsc` (whose tsconfig includes bench/) typechecks this
 * directory without them being installed.
 */
export const benchRequire = createRequire(import.meta.url);

/**
 * bench/, found from this file upwards (the directory whose package.json is
 * kafka-wire-bench): the runners run from bench/ under tsx or compiled to
 * bench/.bin/node/ under plain node.
 */
export function benchDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'kafka-wire-bench') return dir;
    } catch {
      // No package.json here: go up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bench/package.json not found above the runner');
    dir = parent;
  }
}

/** The installed version of a bench dependency (read from disk: some packages' exports hide package.json). */
export function packageVersion(name: string): string {
  try {
    const file = path.join(benchDir(), 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Random uppercase letters, as ProducerPerformance's --record-size payload. */
export function makePayload(size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = 65 + Math.floor(Math.random() * 26);
  return payload;
}

/** Option from `--opt client.key=value`, as a number. */
export function numberOption(config: ChildConfig, key: string, fallback: number): number {
  const value = config.options[key];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--opt ${config.client}.${key}=${value} is not a number`);
  return parsed;
}

export async function runChild(create: (config: ChildConfig) => Promise<ClientRunner>): Promise<void> {
  const config = readConfig();
  const payload = makePayload(config.recordSize);
  const keys = config.keys ? Array.from({ length: config.keys }, (_, i) => keyBytes(i)) : undefined;
  const pool = config.recordsFile ? readRecordsFile(config.recordsFile) : undefined;
  const runner = await create(config);
  await runner.connect();

  if (config.warmupRecords > 0) {
    const warmup = await runner.produce({
      topic: config.warmupTopic,
      records: config.warmupRecords,
      payload,
      keys,
      pool,
      latency: new LatencyRecorder(runner.latencyKind, 1024),
      sampleEvery: config.latencySampleEvery,
      // Paced at the measured phase's rate, if it has one (as ProducerPerformance's warm-up
      // is): a JIT client's per-request code is then as warm as its per-record code, as in a
      // producer that has run at that rate. Unpaced, a warm-up of millions of records took
      // a few hundred big requests, and the measured phase compiled the request path.
      rate: config.rate ?? 0,
    });
    if (warmup.failed > 0) throw new Error(`warm-up: ${warmup.failed} records failed: ${warmup.firstError}`);
  }

  const latency = new LatencyRecorder(runner.latencyKind, Math.ceil(config.records / Math.max(1, config.latencySampleEvery)) + 16);
  // BENCH_MARK_PHASES=1: the measured phase between two lines, for cutting a runner's
  // --trace-opt output or a `perf record -k CLOCK_MONOTONIC` profile (`perf report --time A,B`).
  const mark = process.env['BENCH_MARK_PHASES'] === '1' ? (what: string) => process.stdout.write(`=== ${what} ${(Number(process.hrtime.bigint()) / 1e9).toFixed(6)}\n`) : () => {};
  mark('measured');
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const outcome = await runner.produce({
    topic: config.topic,
    records: config.records,
    payload,
    keys,
    pool,
    latency,
    sampleEvery: config.latencySampleEvery,
    rate: config.rate ?? 0,
  });
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  mark('end');

  await runner.close();
  const total = process.cpuUsage();

  const result: ChildResult = {
    client: config.client,
    version: runner.version,
    idempotent: runner.idempotent,
    compression: config.compression,
    records: config.records,
    acked: outcome.acked,
    failed: outcome.failed,
    ...(outcome.firstError === undefined ? {} : { firstError: outcome.firstError }),
    elapsedMs: Math.round(elapsedMs * 1000) / 1000,
    latency: latency.summary(runner.latencyKind === 'per-record' ? config.latencySampleEvery : (runner.recordsPerSend ?? 1)),
    cpu: {
      measuredUserS: cpu.user / 1e6,
      measuredSystemS: cpu.system / 1e6,
      processS: (total.user + total.system) / 1e6,
    },
    maxRssKiB: process.resourceUsage().maxRSS,
    settings: runner.settings,
    notes: runner.notes ?? [],
    ...(config.rate ? { paced: { rate: config.rate, droppedFromSchedule: outcome.droppedFromSchedule ?? 0 } } : {}),
  };
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
  // Some clients keep timers or sockets alive after close; the result is out.
  process.exit(0);
}

/**
 * For per-record runners: keeps at most `window` records unacknowledged and
 * yields to the event loop every `chunk` records, so I/O and delivery reports
 * run while we produce. `submit(i, sampled)` hands record i to the client and
 * returns false when the client refused it for now (its queue is full); it is
 * retried once some records were acknowledged.
 *
 * With a `rate` (records/s) it paces instead: in slices of PACE_SLICE_MS it hands the
 * client the records due by the end of the slice, then sleeps to the next slice; it
 * catches up at most one missed slice (bench/lib/protocol.ts pacedDue). The window
 * still applies, and a client refusing records delays the schedule like a late slice.
 */
export class Pump {
  private acked = 0;
  private failed = 0;
  private firstError: string | undefined;
  private waiter: (() => void) | undefined;
  private waitBelow = 0;
  private finish: ((outcome: PhaseOutcome) => void) | undefined;

  constructor(
    private readonly total: number,
    private readonly window: number,
    private readonly rate = 0,
    private readonly chunk = 1000,
  ) {}

  /** Paced runs: records whose time went by while the sender was late (see pacedDue). */
  droppedFromSchedule = 0;

  /** Call from every delivery report. */
  readonly done = (error: unknown): void => {
    if (error) {
      this.failed++;
      this.firstError ??= error instanceof Error ? error.message : String(error);
    } else {
      this.acked++;
    }
    const settled = this.acked + this.failed;
    if (settled === this.total) {
      this.finish?.({
        acked: this.acked,
        failed: this.failed,
        ...(this.firstError ? { firstError: this.firstError } : {}),
        ...(this.rate > 0 ? { droppedFromSchedule: this.droppedFromSchedule } : {}),
      });
      this.finish = undefined;
    }
    if (this.waiter && settled >= this.waitBelow) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake();
    }
  };

  run(submit: (index: number) => boolean): Promise<PhaseOutcome> {
    const result = new Promise<PhaseOutcome>((resolve) => (this.finish = resolve));
    void this.loop(submit);
    return result;
  }

  private async loop(submit: (index: number) => boolean): Promise<void> {
    let next = 0;
    const started = performance.now();
    while (next < this.total) {
      let end = Math.min(this.total, next + this.chunk);
      if (this.rate > 0) {
        const pace = pacedDue(this.rate, performance.now() - started, next, this.droppedFromSchedule);
        this.droppedFromSchedule = pace.dropped;
        if (pace.due === 0) {
          await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, pace.nextSliceInMs)));
          continue;
        }
        end = Math.min(this.total, next + pace.due);
      }
      while (next < end) {
        let accepted: boolean;
        try {
          accepted = submit(next);
        } catch (error) {
          this.done(error);
          accepted = true;
        }
        if (accepted) {
          next++;
        } else {
          // The client's queue is full: wait until a tenth of what is out came back.
          const outstanding = next - this.acked - this.failed;
          if (outstanding === 0) await new Promise<void>((resolve) => setTimeout(resolve, 1));
          else await this.settledAtLeast(this.acked + this.failed + Math.max(1, Math.floor(outstanding / 10)));
        }
      }
      const outstanding = next - this.acked - this.failed;
      if (outstanding >= this.window) await this.settledAtLeast(next - Math.floor(this.window / 2));
      else if (this.rate === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private settledAtLeast(count: number): Promise<void> {
    if (this.acked + this.failed >= count) return Promise.resolve();
    this.waitBelow = count;
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }
}

/**
 * For per-send runners (KafkaJS, @platformatic/kafka) in a paced phase: at each slice of
 * PACE_SLICE_MS the records due (bench/lib/protocol.ts pacedDue) go in one send() call,
 * not awaited, as an application handing over what arrived in the last millisecond would
 * do; at most `maxOutstanding` records are unacknowledged (past that the schedule waits,
 * like a late slice). Every record of a call is given the call's latency, so the
 * percentiles are per record.
 */
export async function pacedSends(phase: Phase, maxOutstanding: number, send: (first: number, count: number) => Promise<unknown>): Promise<PhaseOutcome> {
  const outcome: PhaseOutcome = { acked: 0, failed: 0 };
  const inflight = new Set<Promise<void>>();
  let next = 0;
  let dropped = 0;
  const started = performance.now();
  while (next < phase.records) {
    const pace = pacedDue(phase.rate, performance.now() - started, next, dropped);
    dropped = pace.dropped;
    if (pace.due === 0) {
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, pace.nextSliceInMs)));
      continue;
    }
    if (next - outcome.acked - outcome.failed >= maxOutstanding && inflight.size > 0) {
      await Promise.race(inflight);
      continue;
    }
    const count = Math.min(pace.due, phase.records - next);
    const first = next;
    next += count;
    const sentAt = performance.now();
    const call: Promise<void> = send(first, count)
      .then(
        () => {
          outcome.acked += count;
        },
        (error: unknown) => {
          outcome.failed += count;
          outcome.firstError ??= error instanceof Error ? error.message : String(error);
        },
      )
      .then(() => {
        const ms = performance.now() - sentAt;
        for (let i = 0; i < count; i++) phase.latency.add(ms);
        inflight.delete(call);
      });
    inflight.add(call);
  }
  await Promise.all(inflight);
  outcome.droppedFromSchedule = dropped;
  return outcome;
}
