import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { classNameOf, listJar, readJarEntry, type JarEntry } from './jar.js';
import { runProcess } from './java.js';
import { KAFKA_POM, kafkaDistDir } from './paths.js';
import { isErrno, isProcessAlive } from './util.js';
import { KAFKA_VERSIONS, majorVersion } from './versions.js';

export { DEFAULT_KAFKA, KAFKA_VERSIONS, LATEST_KAFKA } from './versions.js';

/** Main classes of the Kafka tools the harness drives; they moved between releases. */
export interface KafkaToolClasses {
  storageTool: string;
  topicCommand: string;
  consoleConsumer: string;
  configCommand: string;
  dumpLogSegments: string;
  producerPerformance: string;
}

/** Command-line options that were renamed between releases (KIP-1147). */
export interface KafkaToolFlags {
  /** `--formatter-property` on newer releases, `--property` before. */
  consoleConsumerFormatterProperty: '--formatter-property' | '--property';
  /** `--command-property` on newer releases, `--consumer-property` before. */
  consoleConsumerCommandProperty: '--command-property' | '--consumer-property';
  /** Whether ProducerPerformance accepts `--bootstrap-server`. */
  producerPerformanceBootstrapServer: boolean;
}

export interface KafkaDist {
  version: string;
  dir: string;
  libsDir: string;
  /** A `-cp` value; the JVM expands the trailing `*` to every jar. */
  classpath: string;
  /** Which logging backend the broker's slf4j binding ends up in. */
  logging: 'log4j2' | 'log4j1';
  tools: KafkaToolClasses;
  flags: KafkaToolFlags;
  hasClass(className: string): boolean;
}

const COMPLETE_MARKER = '.complete';

/** Candidates are listed newest location first. */
const TOOL_CANDIDATES: Record<keyof KafkaToolClasses, readonly string[]> = {
  storageTool: ['kafka.tools.StorageTool'],
  topicCommand: ['org.apache.kafka.tools.TopicCommand', 'kafka.admin.TopicCommand'],
  consoleConsumer: ['org.apache.kafka.tools.consumer.ConsoleConsumer', 'kafka.tools.ConsoleConsumer'],
  configCommand: ['org.apache.kafka.tools.ConfigCommand', 'kafka.admin.ConfigCommand'],
  dumpLogSegments: ['org.apache.kafka.tools.DumpLogSegments', 'kafka.tools.DumpLogSegments'],
  producerPerformance: ['org.apache.kafka.tools.ProducerPerformance'],
};

const resolved = new Map<string, Promise<KafkaDist>>();

/**
 * Resolves the jars of a Kafka release into `.cache/kafka/<version>/libs`.
 * Maven writes into a private temp dir that is renamed into place only once
 * complete, so concurrent callers (vitest and `npm run broker`, say) never see
 * a half-filled libs dir; the loser of the rename race just uses the winner's.
 */
export function ensureKafka(version: string): Promise<KafkaDist> {
  let pending = resolved.get(version);
  if (!pending) {
    pending = resolveDist(version);
    resolved.set(version, pending);
    pending.catch(() => resolved.delete(version));
  }
  return pending;
}

async function resolveDist(version: string): Promise<KafkaDist> {
  const dir = kafkaDistDir(version);
  if (!existsSync(path.join(dir, COMPLETE_MARKER))) await downloadDist(version, dir);
  return inspectDist(version, dir);
}

async function downloadDist(version: string, dir: string): Promise<void> {
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  await removeAbandonedTempDirs(parent);

  const temp = path.join(parent, `.${version}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    process.stderr.write(`kafka-wire: resolving Kafka ${version} jars with Maven into ${dir}\n`);
    const started = Date.now();
    await runMaven(version, path.join(temp, 'libs'));
    await writeFile(
      path.join(temp, COMPLETE_MARKER),
      JSON.stringify({ version, resolvedAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000 }) + '\n',
    );
    await moveIntoPlace(temp, dir);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Kafka's jars could not be had: a message for the person who asked, not a stack trace. */
export class KafkaDistError extends Error {
  override name = 'KafkaDistError';
}

async function runMaven(version: string, outputDirectory: string): Promise<void> {
  const args = [
    '-B',
    '-q',
    '-f',
    KAFKA_POM,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${outputDirectory}`,
    `-Dkafka.version=${version}`,
    // Kafka 3.x brings its own slf4j-reload4j binding; see pom.xml.
    ...(majorVersion(version) < 4 ? ['-Dkafka.logging=reload4j'] : []),
    // Lets CI point at its own cache, e.g. -Dmaven.repo.local=...
    ...(process.env['KAFKA_WIRE_MVN_ARGS']?.split(/\s+/).filter(Boolean) ?? []),
  ];
  const result = await runProcess(process.env['MVN'] ?? 'mvn', args, { timeoutMs: 15 * 60_000 });
  if (result.exitCode !== 0) {
    // Maven's own lines, without its colour codes and its advice on re-running it.
    const errors = `${result.stdout}\n${result.stderr}`
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .filter((line) => line.startsWith('[ERROR]') && !/^\[ERROR\]\s*(?:$|To see the full|Re-run Maven|For more information|\[Help 1\])/i.test(line))
      .map((line) => line.replace(/ -> \[Help 1\]$/, ''))
      .join('\n');
    const notThere = /kafka_2\.13:jar:\S+ (?:was not found|could not be resolved)|Could not find artifact org\.apache\.kafka:kafka_2\.13/.test(errors);
    throw new KafkaDistError(
      notThere
        ? `Kafka ${version} is not on Maven Central (or Maven Central cannot be reached): the harness runs ${KAFKA_VERSIONS.join(' and ')}\n${errors}`
        : `Maven could not resolve Kafka ${version} (exit ${result.exitCode ?? result.signal}):\n${errors || `${result.stdout}\n${result.stderr}`.trim()}`,
    );
  }
  const jars = await readdir(outputDirectory);
  if (!jars.some((jar) => jar.startsWith('kafka_2.13-'))) {
    throw new Error(`Maven finished but ${outputDirectory} has no kafka_2.13 jar`);
  }
  warnOnLog4jMismatch(version, jars);
}

/**
 * pom.xml pins the log4j2 slf4j binding to one version; a Kafka release that
 * brings another log4j-core would mix versions. Usually harmless, so warn.
 */
function warnOnLog4jMismatch(version: string, jars: string[]): void {
  const versionOf = (artifact: string): string | undefined =>
    jars.find((jar) => jar.startsWith(`${artifact}-`))?.slice(artifact.length + 1, -'.jar'.length);
  const core = versionOf('log4j-core');
  const binding = versionOf('log4j-slf4j-impl');
  if (core && binding && core !== binding) {
    process.stderr.write(
      `kafka-wire: Kafka ${version} brings log4j-core ${core} but pom.xml pins log4j-slf4j-impl ${binding}; ` +
        `set log4j2.version in scripts/kafka/pom.xml to ${core}\n`,
    );
  }
}

async function moveIntoPlace(temp: string, dir: string): Promise<void> {
  try {
    await rename(temp, dir);
  } catch (error) {
    if (!isErrno(error, 'EEXIST', 'ENOTEMPTY')) throw error;
    if (existsSync(path.join(dir, COMPLETE_MARKER))) return; // Another process won the race.
    // A dir without the marker was not made by us; replace it.
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  }
}

async function removeAbandonedTempDirs(parent: string): Promise<void> {
  for (const name of await readdir(parent)) {
    const pid = /^\..+\.tmp-(\d+)-[0-9a-f]+$/.exec(name)?.[1];
    if (pid !== undefined && !isProcessAlive(Number(pid))) {
      await rm(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

type ClassIndex = Map<string, { jar: string; entry: JarEntry }>;

async function inspectDist(version: string, dir: string): Promise<KafkaDist> {
  const libsDir = path.join(dir, 'libs');
  const classes = await indexClasses(libsDir);
  const tools = findTools(classes, version);
  return {
    version,
    dir,
    libsDir,
    classpath: path.join(libsDir, '*'),
    logging: classes.has('org.apache.logging.log4j.core.LoggerContext') ? 'log4j2' : 'log4j1',
    tools,
    flags: await detectFlags(classes, tools),
    hasClass: (className) => classes.has(className),
  };
}

/** Every class in the jars and where to read it (a class in two jars is recorded once). */
async function indexClasses(libsDir: string): Promise<ClassIndex> {
  const classes: ClassIndex = new Map();
  const jars = (await readdir(libsDir)).filter((name) => name.endsWith('.jar')).sort();
  for (const jarName of jars) {
    const jar = path.join(libsDir, jarName);
    for (const entry of await listJar(jar)) {
      const className = classNameOf(entry.name);
      if (className !== undefined && !classes.has(className)) classes.set(className, { jar, entry });
    }
  }
  return classes;
}

function findTools(classes: ClassIndex, version: string): KafkaToolClasses {
  const find = (tool: keyof KafkaToolClasses): string => {
    const found = TOOL_CANDIDATES[tool].find((candidate) => classes.has(candidate));
    if (!found) throw new Error(`Kafka ${version}: none of ${TOOL_CANDIDATES[tool].join(', ')} is in its jars`);
    return found;
  };
  return {
    storageTool: find('storageTool'),
    topicCommand: find('topicCommand'),
    consoleConsumer: find('consoleConsumer'),
    configCommand: find('configCommand'),
    dumpLogSegments: find('dumpLogSegments'),
    producerPerformance: find('producerPerformance'),
  };
}

/**
 * Option names are string constants in the class files, so their presence
 * tells which spelling a release accepts without starting a JVM or guessing
 * from the version number.
 */
async function detectFlags(classes: ClassIndex, tools: KafkaToolClasses): Promise<KafkaToolFlags> {
  const mentions = async (className: string, text: string): Promise<boolean> => {
    const located = classes.get(className);
    return located !== undefined && (await readJarEntry(located.jar, located.entry)).includes(text);
  };
  const consoleOptions = `${tools.consoleConsumer}Options`;
  return {
    consoleConsumerFormatterProperty: (await mentions(consoleOptions, 'formatter-property'))
      ? '--formatter-property'
      : '--property',
    consoleConsumerCommandProperty: (await mentions(consoleOptions, 'command-property'))
      ? '--command-property'
      : '--consumer-property',
    producerPerformanceBootstrapServer: await mentions(tools.producerPerformance, '--bootstrap-server'),
  };
}
