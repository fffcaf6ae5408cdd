import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KafkaDist } from './dist.js';
import { CACHE_DIR } from './paths.js';

/**
 * Kafka 4.x logs through log4j2, 3.x through reload4j (log4j 1 API); each
 * wants its own properties syntax and its own system property to find it.
 */

const PATTERN = '[%d] %p %m (%c)%n';

/** Loggers that are noisy at INFO without helping to debug a test. */
const QUIET_LOGGERS: Readonly<Record<string, string>> = {
  'kafka.request.logger': 'WARN',
  'org.apache.kafka.clients.admin.AdminClientConfig': 'WARN',
  'org.apache.kafka.clients.consumer.ConsumerConfig': 'WARN',
  'org.apache.kafka.clients.producer.ProducerConfig': 'WARN',
};

/** Everything at INFO into one file, nothing on stdout. */
export function brokerLoggingConfig(logging: KafkaDist['logging'], logFile: string): string {
  return logging === 'log4j2' ? log4j2FileConfig(logFile) : log4j1FileConfig(logFile);
}

/** JVM flag that points the logging backend at `configFile`. */
export function loggingSystemProperty(logging: KafkaDist['logging'], configFile: string): string {
  return logging === 'log4j2' ? `-Dlog4j2.configurationFile=${configFile}` : `-Dlog4j.configuration=file:${configFile}`;
}

/**
 * Tools print their results on stdout, so their own logging goes to stderr
 * and only from WARN up. Written once into the cache and reused.
 */
export async function toolLoggingConfigFile(logging: KafkaDist['logging']): Promise<string> {
  const text = logging === 'log4j2' ? log4j2StderrConfig() : log4j1StderrConfig();
  // Named by content so an edited config never meets a stale file.
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const file = path.join(CACHE_DIR, 'kafka', `tools-${logging}-${digest}.properties`);
  if (!existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temp, text);
    await rename(temp, file);
  }
  return file;
}

function log4j2FileConfig(logFile: string): string {
  return lines(
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    `appender.file.layout.pattern = ${PATTERN}`,
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = file',
    ...log4j2Levels(),
  );
}

function log4j2StderrConfig(): string {
  return lines(
    'status = warn',
    'appender.stderr.type = Console',
    'appender.stderr.name = stderr',
    'appender.stderr.target = SYSTEM_ERR',
    'appender.stderr.layout.type = PatternLayout',
    `appender.stderr.layout.pattern = ${PATTERN}`,
    'rootLogger.level = WARN',
    'rootLogger.appenderRef.stderr.ref = stderr',
  );
}

function log4j2Levels(): string[] {
  return Object.entries(QUIET_LOGGERS).flatMap(([name, level], i) => [
    `logger.quiet${i}.name = ${name}`,
    `logger.quiet${i}.level = ${level}`,
  ]);
}

function log4j1FileConfig(logFile: string): string {
  return lines(
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    `log4j.appender.file.layout.ConversionPattern=${PATTERN}`,
    ...Object.entries(QUIET_LOGGERS).map(([name, level]) => `log4j.logger.${name}=${level}`),
  );
}

function log4j1StderrConfig(): string {
  return lines(
    'log4j.rootLogger=WARN, stderr',
    'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stderr.Target=System.err',
    'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
    `log4j.appender.stderr.layout.ConversionPattern=${PATTERN}`,
  );
}

function lines(...content: string[]): string {
  return content.join('\n') + '\n';
}
