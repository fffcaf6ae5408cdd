/** `kafka-wire conformance`: the suite against any cluster, from the command line. */
import { writeFileSync } from 'node:fs';
import type { SaslOptions, TlsOptions } from '../net/security.js';
import { signalExitCode } from '../cli/signals.js';
import { checkTopicName, MAX_TOPIC_NAME } from '../cli/topic-name.js';
import { checkWritable, UsageError } from '../cli/usage-error.js';
import { loadExpected, recordRelease, recordTarget, saveExpected } from './expected.js';
import { formatDetails, progressLine, summaryTable, toJsonReport, toJUnit, toMarkdown } from './report.js';
import { isCategory, runSuite, type SuiteReport } from './runner.js';
import { Session, TOPIC_NAME_EXTRA } from './session.js';
import { CATEGORIES, type CategoryName } from './types.js';

export interface ConformanceOptions {
  bootstrap: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
  prefix?: string;
  keep?: boolean;
  /** The command line's: on SIGINT or SIGTERM, clean up (as at the end) and exit 130 or 143. */
  cleanUpOnSignal?: boolean;
  /** Let the suite change the cluster beyond its topics: the throttling checks set (and remove) a quota. */
  admin?: boolean;
  json?: boolean;
  junit?: string;
  /** A Markdown report, headed with this implementation's name: `FILE` or `NAME=FILE`. */
  markdown?: string;
  only?: string[];
  /** Record this run's answers as those of Apache Kafka RELEASE into the expected file. */
  record?: string;
  expected?: string;
  /** For tests: resolves as SIGINT or SIGTERM would stop the run (with cleanUpOnSignal, the process's signals do). */
  interrupt?: Promise<NodeJS.Signals>;
  /** Where the progress lines, the table and the JSON go; the process's streams by default. */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export function parseOnly(only: readonly string[] | undefined): CategoryName[] | undefined {
  if (!only || only.length === 0) return undefined;
  const names = only.flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  for (const n of names) if (!isCategory(n)) throw new UsageError(`--only ${JSON.stringify(n)}: categories are ${CATEGORIES.join(', ')}`);
  return names as CategoryName[];
}

/** Runs the suite and reports; the report is returned too, for tests. */
export async function runConformance(opts: ConformanceOptions): Promise<{ exitCode: number; report: SuiteReport }> {
  const only = parseOnly(opts.only);
  // Every topic of the run is named after it: a bad prefix would fail checks, blaming the broker.
  if (opts.prefix !== undefined) checkTopicName(opts.prefix, '--prefix', MAX_TOPIC_NAME - TOPIC_NAME_EXTRA);
  // Before a run of minutes, not after it: a report that cannot be written would be lost.
  if (opts.junit) checkWritable(opts.junit, '--junit');
  if (opts.markdown) checkWritable(markdownTarget(opts).file, '--markdown');
  const recordFile = opts.record ? recordTarget(opts.expected) : undefined;
  if (recordFile) checkWritable(recordFile, '--expected');
  const out = opts.out ?? process.stdout;
  // With --json, stdout is the JSON alone; progress goes to stderr.
  const progress = opts.json ? (opts.err ?? process.stderr) : out;
  const expected = loadExpected(opts.expected, opts.record !== undefined);
  const session = new Session({ bootstrap: opts.bootstrap, tls: opts.tls, sasl: opts.sasl, prefix: opts.prefix, admin: opts.admin ?? false });
  // Ctrl-C or SIGTERM mid-run: the check that runs is cut off, no other starts, the topics
  // and cluster changes are undone as at the end, and what ran is reported.
  let interruptedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (interruptedBy) return;
    interruptedBy = signal;
    const undo = opts.keep ? 'undoing cluster changes (topics kept)' : 'deleting the topics it made';
    progress.write(`${signal}: stopping; ${undo}, then the summary of what ran${opts.cleanUpOnSignal ? ` (${signal} again: exit at once)` : ''}\n`);
    session.interrupt(signal);
  };
  void opts.interrupt?.then(stop);
  const stopWatching = opts.cleanUpOnSignal ? watchSignals(stop) : () => undefined;
  const started = Date.now();
  // One clear error for a broker that cannot be reached, not a failure per category.
  try {
    await Promise.race([session.connection(), session.whenInterrupted]);
  } catch (err) {
    stopWatching();
    await session.cleanup(true).catch(() => undefined);
    throw err;
  }
  let results;
  let cleanupErrors: string[] = [];
  try {
    ({ results } = await runSuite(session, { expected, ...(only ? { only } : {}), onResult: (r) => progress.write(`${progressLine(r)}\n`) }));
  } finally {
    // Watched until the cleanup is done: a signal during it stops no more than it, a second exits.
    cleanupErrors = await session.cleanup(opts.keep ?? false).catch((err: Error) => [`cleanup: ${err.message}`]);
    stopWatching();
  }
  const report: SuiteReport = {
    bootstrap: opts.bootstrap,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    apacheKafka: expected.releases,
    results,
    cleanupErrors,
    ...(interruptedBy ? { interruptedBy } : {}),
  };
  if (opts.json) out.write(toJsonReport(report));
  else {
    out.write(formatDetails(results));
    out.write(`\n${summaryTable(report)}`);
    if (opts.keep) out.write(`topics kept under ${session.prefix}-*\n`);
    for (const e of cleanupErrors) out.write(`could not clean up ${e}\n`);
    if (interruptedBy) out.write(`stopped by ${interruptedBy}: the checks after the last one above did not run\n`);
  }
  if (opts.junit) writeFileSync(opts.junit, toJUnit(report));
  if (opts.markdown) {
    const { name, file } = markdownTarget(opts);
    writeFileSync(file, toMarkdown(report, name));
  }
  // A stopped run's answers are a part of a release's: recorded, they would pass for the whole.
  if (opts.record && recordFile && interruptedBy) progress.write(`not recorded into ${recordFile}: the run was stopped before its end\n`);
  else if (opts.record && recordFile) {
    saveExpected(recordRelease(expected, opts.record, results), recordFile);
    progress.write(`recorded the answers of Apache Kafka ${opts.record} into ${recordFile}\n`);
  }
  const exitCode = interruptedBy ? signalExitCode(interruptedBy) : results.some((r) => r.status === 'fail') ? 1 : 0;
  return { exitCode, report };
}

function markdownTarget(opts: ConformanceOptions): { name: string; file: string } {
  const markdown = opts.markdown ?? '';
  const at = markdown.indexOf('=');
  return at >= 0 ? { name: markdown.slice(0, at), file: markdown.slice(at + 1) } : { name: opts.bootstrap, file: markdown };
}

export async function conformanceCommand(opts: ConformanceOptions): Promise<number> {
  return (await runConformance({ cleanUpOnSignal: true, ...opts })).exitCode;
}

/**
 * The process's SIGINT and SIGTERM: the first stops the run (see runConformance), a second
 * exits at once, for a cleanup that hangs. Returns what stops watching.
 */
function watchSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(signalExitCode(signal));
    signalled = true;
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
