import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureKafka, type KafkaToolClasses } from './dist.js';
import { TOOL_JVM_OPTIONS, javaBinary, runProcess, type ProcessResult } from './java.js';
import { loggingSystemProperty, toolLoggingConfigFile } from './logging.js';
import { parseDumpedBatches, parseTopicDescriptions, type DumpedBatch, type TopicDescription } from './tool-output.js';
import { isErrno } from './util.js';

export type { DumpedBatch, TopicDescription, TopicPartitionDescription } from './tool-output.js';

/**
 * What a tool needs to know about a cluster: which release's jars to run and
 * where to connect. A running KafkaCluster fits, and so does the plain data a
 * vitest globalSetup provides to test files.
 */
export interface ToolTarget {
  version: string;
  bootstrap: string;
}

export type ToolResult = ProcessResult;

export interface ToolRunOptions {
  /** Kill the JVM after this long; default 120 s. */
  timeoutMs?: number;
  /** Return a failed run instead of throwing. */
  allowFailure?: boolean;
}

export class KafkaToolError extends Error {
  constructor(
    readonly tool: string,
    readonly result: ToolResult,
  ) {
    const how = result.timedOut ? 'timed out' : `exited with ${result.exitCode ?? result.signal}`;
    super(`${tool} ${how}\n$ ${result.command}\n${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'KafkaToolError';
  }
}

/** Runs one Kafka tool main class in its own JVM with the version's jars. */
export async function runKafkaTool(
  version: string,
  tool: keyof KafkaToolClasses,
  args: readonly string[],
  options: ToolRunOptions = {},
): Promise<ToolResult> {
  const dist = await ensureKafka(version);
  const loggingConfig = await toolLoggingConfigFile(dist.logging);
  const jvmArgs = [...TOOL_JVM_OPTIONS, loggingSystemProperty(dist.logging, loggingConfig), '-cp', dist.classpath];
  const result = await runProcess(javaBinary(), [...jvmArgs, dist.tools[tool], ...args], {
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  if (!options.allowFailure && (result.exitCode !== 0 || result.timedOut)) {
    throw new KafkaToolError(dist.tools[tool], result);
  }
  return result;
}

export function topics(target: ToolTarget, args: readonly string[], options?: ToolRunOptions): Promise<ToolResult> {
  return runKafkaTool(target.version, 'topicCommand', ['--bootstrap-server', target.bootstrap, ...args], options);
}

export interface CreateTopicOptions {
  partitions?: number;
  /** Defaults to the broker's default.replication.factor. */
  replicationFactor?: number;
  config?: Record<string, string>;
  ifNotExists?: boolean;
}

export async function createTopic(target: ToolTarget, name: string, options: CreateTopicOptions = {}): Promise<void> {
  const args = ['--create', '--topic', name];
  if (options.partitions !== undefined) args.push('--partitions', String(options.partitions));
  if (options.replicationFactor !== undefined) args.push('--replication-factor', String(options.replicationFactor));
  for (const [key, value] of Object.entries(options.config ?? {})) args.push('--config', `${key}=${value}`);
  if (options.ifNotExists) args.push('--if-not-exists');
  await topics(target, args);
}

export async function describeTopic(target: ToolTarget, name: string): Promise<TopicDescription> {
  const result = await topics(target, ['--describe', '--topic', name]);
  const description = parseTopicDescriptions(result.stdout).find((topic) => topic.name === name);
  if (!description) throw new Error(`TopicCommand printed no description of ${name}:\n${result.stdout}`);
  return description;
}

/** ConfigCommand, e.g. `['--alter', '--entity-type', 'clients', ...]`. */
export function configs(target: ToolTarget, args: readonly string[], options?: ToolRunOptions): Promise<ToolResult> {
  return runKafkaTool(target.version, 'configCommand', ['--bootstrap-server', target.bootstrap, ...args], options);
}

/** Sets client quotas such as `producer_byte_rate` for one client id. */
export async function setClientQuotas(target: ToolTarget, clientId: string, quotas: Record<string, number>): Promise<void> {
  const settings = Object.entries(quotas).map(([key, value]) => `${key}=${value}`);
  await configs(target, [
    ...['--alter', '--entity-type', 'clients', '--entity-name', clientId],
    ...['--add-config', settings.join(',')],
  ]);
}

export interface ConsoleConsumeOptions {
  topic: string;
  /** Stop after this many messages. */
  maxMessages?: number;
  /** Stop when no message arrives for this long; default 10 s. */
  timeoutMs?: number;
  /** Default true: tests usually want what was produced before they looked. */
  fromBeginning?: boolean;
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  partition?: number;
  /** A numeric offset, or 'earliest' / 'latest'; needs `partition`. */
  offset?: number | 'earliest' | 'latest';
  group?: string;
  printKey?: boolean;
  printHeaders?: boolean;
  printTimestamp?: boolean;
  printPartition?: boolean;
  printOffset?: boolean;
  /** Further DefaultMessageFormatter properties, e.g. `key.separator`. */
  formatterProperties?: Record<string, string>;
  consumerProperties?: Record<string, string>;
}

export interface ConsoleConsumeResult extends ToolResult {
  /** One entry per consumed message, formatted as the formatter properties say. */
  messages: string[];
}

/**
 * Reads messages with Kafka's own consumer. Fewer messages than `maxMessages`
 * is not an error here (the idle timeout simply ended the run); assert on
 * `messages` instead.
 */
export async function consoleConsume(target: ToolTarget, options: ConsoleConsumeOptions): Promise<ConsoleConsumeResult> {
  const dist = await ensureKafka(target.version);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = ['--bootstrap-server', target.bootstrap, '--topic', options.topic, '--timeout-ms', String(timeoutMs)];
  if (options.maxMessages !== undefined) args.push('--max-messages', String(options.maxMessages));
  if (options.fromBeginning ?? (options.offset === undefined)) args.push('--from-beginning');
  if (options.isolationLevel) args.push('--isolation-level', options.isolationLevel);
  if (options.partition !== undefined) args.push('--partition', String(options.partition));
  if (options.offset !== undefined) args.push('--offset', String(options.offset));
  if (options.group !== undefined) args.push('--group', options.group);

  const formatter: Record<string, string> = {
    ...(options.printKey ? { 'print.key': 'true' } : {}),
    ...(options.printHeaders ? { 'print.headers': 'true' } : {}),
    ...(options.printTimestamp ? { 'print.timestamp': 'true' } : {}),
    ...(options.printPartition ? { 'print.partition': 'true' } : {}),
    ...(options.printOffset ? { 'print.offset': 'true' } : {}),
    ...options.formatterProperties,
  };
  for (const [key, value] of Object.entries(formatter)) {
    args.push(dist.flags.consoleConsumerFormatterProperty, `${key}=${value}`);
  }
  for (const [key, value] of Object.entries(options.consumerProperties ?? {})) {
    args.push(dist.flags.consoleConsumerCommandProperty, `${key}=${value}`);
  }

  const result = await runKafkaTool(target.version, 'consoleConsumer', args, {
    timeoutMs: timeoutMs + 60_000,
    allowFailure: true,
  });
  // An idle timeout ends the consumer with a non-zero exit on some releases;
  // only a run that printed no summary line really failed.
  if (result.timedOut || (result.exitCode !== 0 && !/Processed a total of \d+ messages/.test(result.stderr))) {
    throw new KafkaToolError(dist.tools.consoleConsumer, result);
  }
  const separator = formatter['line.separator'] ?? '\n';
  const messages = result.stdout.split(separator);
  if (messages.at(-1) === '') messages.pop();
  return { ...result, messages };
}

export interface DumpLogSegmentsOptions {
  /** Default true: one line per record, not only per batch. */
  deepIteration?: boolean;
  /** Print keys and values too. */
  printData?: boolean;
  extraArgs?: readonly string[];
}

export interface DumpLogSegmentsResult extends ToolResult {
  batches: DumpedBatch[];
}

/** Needs only the jars: it reads segment files directly, no broker involved. */
export async function dumpLogSegments(
  target: Pick<ToolTarget, 'version'>,
  files: readonly string[],
  options: DumpLogSegmentsOptions = {},
): Promise<DumpLogSegmentsResult> {
  const args = ['--files', files.join(',')];
  if (options.deepIteration ?? true) args.push('--deep-iteration');
  if (options.printData) args.push('--print-data-log');
  args.push(...(options.extraArgs ?? []));
  const result = await runKafkaTool(target.version, 'dumpLogSegments', args);
  return { ...result, batches: parseDumpedBatches(result.stdout) };
}

/**
 * ProducerPerformance, e.g. `['--topic', t, '--num-records', '1000',
 * '--record-size', '100', '--throughput', '-1']`; the bootstrap is added.
 */
export async function producerPerformance(
  target: ToolTarget,
  args: readonly string[],
  options?: ToolRunOptions,
): Promise<ToolResult> {
  const dist = await ensureKafka(target.version);
  const run = (extra: string[]): Promise<ToolResult> =>
    runKafkaTool(target.version, 'producerPerformance', [...extra, ...args], options);
  if (dist.flags.producerPerformanceBootstrapServer) return run(['--bootstrap-server', target.bootstrap]);

  // Older releases take the bootstrap only as a producer property; a config
  // file keeps it from clashing with a --producer-props list in `args`.
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const configFile = path.join(tmpdir(), `kafka-wire-producer-${suffix}.properties`);
  await writeFile(configFile, `bootstrap.servers=${target.bootstrap}\n`);
  try {
    return await run(['--producer.config', configFile]);
  } finally {
    await rm(configFile, { force: true });
  }
}

/**
 * The `.log` segment files of one partition in a broker's data dir, oldest
 * first; [] when this broker holds no replica of it.
 */
export async function segmentFiles(dataDir: string, topic: string, partition: number): Promise<string[]> {
  const partitionDir = path.join(dataDir, `${topic}-${partition}`);
  let names: string[];
  try {
    names = await readdir(partitionDir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  // Names are zero-padded base offsets, so a string sort is an offset sort.
  return names
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => path.join(partitionDir, name));
}
