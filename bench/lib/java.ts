/**
 * Kafka's own Java tools for the benchmark: ProducerPerformance as the Java
 * client, and GetOffsetShell to count what the broker stored; and the compiling
 * of our own Java runner (bench/clients/java/) against the same jars.
 *
 * Why not scripts/kafka/tools.ts producerPerformance(): it runs the JVM with
 * the harness's quick-start flags (C1 JIT only, serial GC, 256 MB heap),
 * which suit short tool runs in tests but would handicap a throughput run,
 * and it does not expose the process to measure. So we start the same main
 * class with the JVM flags of Kafka's own kafka-producer-perf-test.sh
 * (kafka-run-class.sh's defaults: G1, -Xmx512M, full tiered JIT), and follow
 * tools.ts in how the bootstrap is passed on 3.x vs 4.x.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureKafka, type KafkaDist } from '../../scripts/kafka/dist.js';
import { TOOL_JVM_OPTIONS, javaBinary, runProcess } from '../../scripts/kafka/java.js';
import { loggingSystemProperty, toolLoggingConfigFile } from '../../scripts/kafka/logging.js';
import { majorVersion } from '../../scripts/kafka/versions.js';
import type { ToolTarget } from '../../scripts/kafka/tools.js';
import { runMeasured, type MeasuredRun } from './measure.js';

/** What kafka-run-class.sh uses for tools, with kafka-producer-perf-test.sh's heap. */
export const PERF_JVM_OPTIONS: readonly string[] = [
  '-Xmx512M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
];

export interface PerfSummary {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export interface PerfRun extends MeasuredRun {
  /** The summary over every record (warm-up included). */
  total: PerfSummary | undefined;
  /** The summary without the warm-up records (4.x's --warmup-records); equals total without a warm-up. */
  steady: PerfSummary | undefined;
  warmupRecords: number;
}

export interface PerfOptions {
  target: ToolTarget;
  topic: string;
  records: number;
  warmupRecords: number;
  recordSize: number;
  producerProps: Record<string, string>;
  timeoutMs: number;
  /** --throughput: records/s the tool offers (its own throttle, warm-up included); -1 or absent: unthrottled. */
  throughput?: number;
}

/**
 * JVM options, the tools' logging config (WARN and up, on stderr, so stdout is the
 * program's own) and the classpath: `classes` (our own compiled runners) ahead of the
 * Kafka jars.
 */
export async function javaPrefix(dist: KafkaDist, jvmOptions: readonly string[], classes: readonly string[] = []): Promise<string[]> {
  const loggingConfig = await toolLoggingConfigFile(dist.logging);
  return [...jvmOptions, loggingSystemProperty(dist.logging, loggingConfig), '-cp', [...classes, dist.classpath].join(path.delimiter)];
}

/** javac of the JDK that javaBinary() runs: JAVA_HOME's if it has one. */
function javacBinary(): string {
  const home = process.env['JAVA_HOME'];
  const candidate = home ? path.join(home, 'bin', 'javac') : undefined;
  return candidate && existsSync(candidate) ? candidate : 'javac';
}

/**
 * Compiles a Java runner's one source file (`<mainClass>.java`) with javac against the
 * Kafka jars of `version` into `outDir`, unless `<mainClass>.class` there is at least as
 * new as the source. Returns what happened: compiled, up to date, or why it failed (javac's
 * output also goes to `logFile`). The directory is emptied first, so no class of an
 * earlier version of the source is left beside the new ones.
 */
export async function compileJavaRunner(
  source: string,
  outDir: string,
  version: string,
  logFile: string,
): Promise<{ status: 'compiled' | 'up to date' } | { status: 'failed'; reason: string }> {
  const mainClass = path.join(outDir, `${path.basename(source, '.java')}.class`);
  if (existsSync(mainClass) && statSync(mainClass).mtimeMs >= statSync(source).mtimeMs) return { status: 'up to date' };
  try {
    const dist = await ensureKafka(version);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const result = await runProcess(javacBinary(), ['--release', '17', '-cp', dist.classpath, '-d', outDir, source], { timeoutMs: 300_000 });
    await writeFile(logFile, `${result.command}\n${result.stdout}${result.stderr}`);
    if (result.exitCode === 0) return { status: 'compiled' };
    // A half-written output must not pass for up to date next time.
    await rm(outDir, { recursive: true, force: true });
    const error = result.stderr.split('\n').find((line) => /error/.test(line)) ?? result.stderr.trim().split('\n')[0] ?? '';
    // javac names the file by its absolute path; the file name is enough in a status column.
    return { status: 'failed', reason: `javac exited with ${result.exitCode ?? result.signal}: ${error.replaceAll(source, path.basename(source)).trim()}` };
  } catch (error) {
    await rm(outDir, { recursive: true, force: true }).catch(() => {});
    return { status: 'failed', reason: (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '' };
  }
}

/** --warmup-records (KIP-1052) exists from Kafka 4.0. */
export function supportsWarmup(version: string): boolean {
  return majorVersion(version) >= 4;
}

export async function producerPerformance(options: PerfOptions): Promise<PerfRun> {
  const dist = await ensureKafka(options.target.version);
  const warmup = supportsWarmup(dist.version) ? options.warmupRecords : 0;
  const args = [
    '--topic',
    options.topic,
    '--num-records',
    String(options.records + warmup),
    ...(warmup > 0 ? ['--warmup-records', String(warmup)] : []),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    String(options.throughput ?? -1),
    '--producer-props',
    ...Object.entries(options.producerProps).map(([key, value]) => `${key}=${value}`),
  ];
  let configFile: string | undefined;
  if (dist.flags.producerPerformanceBootstrapServer) {
    args.unshift('--bootstrap-server', options.target.bootstrap);
  } else {
    // As tools.ts does for 3.x: the bootstrap only as a producer property, in a file.
    configFile = path.join(tmpdir(), `kafka-wire-bench-${process.pid}-${randomBytes(4).toString('hex')}.properties`);
    await writeFile(configFile, `bootstrap.servers=${options.target.bootstrap}\n`);
    args.unshift('--producer.config', configFile);
  }
  try {
    const prefix = await javaPrefix(dist, PERF_JVM_OPTIONS);
    const run = await runMeasured(javaBinary(), [...prefix, dist.tools.producerPerformance, ...args], {
      timeoutMs: options.timeoutMs,
    });
    const total = parseSummary(run.stdout, /^(\d+) records sent, /m);
    const steady = warmup > 0 ? parseSummary(run.stdout, /^(\d+) steady state records sent, /m) : total;
    return { ...run, total, steady, warmupRecords: warmup };
  } finally {
    if (configFile) await rm(configFile, { force: true });
  }
}

/**
 * `N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
 * P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th.`
 */
export function parseSummary(stdout: string, start: RegExp): PerfSummary | undefined {
  const match = start.exec(stdout);
  if (!match) return undefined;
  const line = stdout.slice(match.index).split('\n')[0] ?? '';
  const number = (pattern: RegExp): number => Number(pattern.exec(line)?.[1] ?? Number.NaN);
  const summary: PerfSummary = {
    records: Number(match[1]),
    recordsPerSec: number(/([\d.]+) records\/sec/),
    mbPerSec: number(/\(([\d.]+) MB\/sec\)/),
    avgMs: number(/([\d.]+) ms avg latency/),
    maxMs: number(/([\d.]+) ms max latency/),
    p50Ms: number(/([\d.]+) ms 50th/),
    p95Ms: number(/([\d.]+) ms 95th/),
    p99Ms: number(/([\d.]+) ms 99th/),
    p999Ms: number(/([\d.]+) ms 99\.9th/),
  };
  return Number.isFinite(summary.recordsPerSec) ? summary : undefined;
}

/** Sum of the partitions' end offsets (the next offset each would assign), from Kafka's GetOffsetShell. */
export async function endOffsets(target: ToolTarget, topic: string): Promise<{ total: number; partitions: Record<string, number> }> {
  const dist = await ensureKafka(target.version);
  const mainClass = ['org.apache.kafka.tools.GetOffsetShell', 'kafka.tools.GetOffsetShell'].find((name) => dist.hasClass(name));
  if (!mainClass) throw new Error(`Kafka ${dist.version} has no GetOffsetShell`);
  const prefix = await javaPrefix(dist, TOOL_JVM_OPTIONS);
  const result = await runProcess(
    javaBinary(),
    [...prefix, mainClass, '--bootstrap-server', target.bootstrap, '--topic', topic, '--time', '-1'],
    { timeoutMs: 120_000 },
  );
  if (result.exitCode !== 0) throw new Error(`GetOffsetShell exited with ${result.exitCode}: ${result.stderr.trim()}`);
  const partitions: Record<string, number> = {};
  let total = 0;
  for (const line of result.stdout.split('\n')) {
    const match = /^(.+):(\d+):(\d+)$/.exec(line.trim());
    if (!match || match[1] !== topic) continue;
    partitions[match[2]!] = Number(match[3]);
    total += Number(match[3]);
  }
  if (Object.keys(partitions).length === 0) throw new Error(`GetOffsetShell printed no offsets for ${topic}:\n${result.stdout}${result.stderr}`);
  return { total, partitions };
}
