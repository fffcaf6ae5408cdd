/**
 * Runs the checks of each category, one at a time and in order (several checks share a
 * topic, and a broker's answer must not depend on what else is in flight), and turns
 * each into a result: pass, fail, differs from Apache Kafka, not offered, or skipped.
 */
import type { Check, Category, CheckContext } from './check.js';
import { apiVersionsCategory } from './checks/api-versions.js';
import { createTopicsCategory } from './checks/create-topics.js';
import { idempotenceCategory } from './checks/idempotence.js';
import { limitsCategory } from './checks/limits.js';
import { metadataCategory } from './checks/metadata.js';
import { produceCategory } from './checks/produce.js';
import { throttlingCategory } from './checks/throttling.js';
import { transactionsCategory } from './checks/transactions.js';
import { renderExchange } from './exchange.js';
import { compareWithKafka, type ExpectedData, type Observations } from './expected.js';
import { CheckFailure, NotOffered } from './failure.js';
import { Interrupted, type Session } from './session.js';
import { CATEGORIES, type CategoryName, type CheckResult } from './types.js';

export const ALL_CATEGORIES: readonly Category[] = [
  apiVersionsCategory,
  metadataCategory,
  createTopicsCategory,
  produceCategory,
  limitsCategory,
  idempotenceCategory,
  transactionsCategory,
  throttlingCategory,
];

/** A check that hangs (a broker that never answers) fails after this long. */
const CHECK_TIMEOUT_MS = 60_000;

export interface RunOptions {
  expected: ExpectedData;
  only?: readonly CategoryName[];
  /** Called as each check ends: the progress lines. */
  onResult?: (result: CheckResult) => void;
}

export interface SuiteReport {
  bootstrap: string;
  startedAt: string;
  durationMs: number;
  /** Releases whose answers the checks were compared with. */
  apacheKafka: string[];
  results: CheckResult[];
  /** Topics that could not be deleted afterwards. */
  cleanupErrors: string[];
  /** The signal that stopped the run; the checks after the last result did not run. */
  interruptedBy?: string;
}

export function isCategory(name: string): name is CategoryName {
  return (CATEGORIES as readonly string[]).includes(name);
}

export async function runSuite(session: Session, opts: RunOptions): Promise<{ results: CheckResult[] }> {
  const results: CheckResult[] = [];
  const emit = (r: CheckResult): void => {
    results.push(r);
    opts.onResult?.(r);
  };
  for (const category of ALL_CATEGORIES) {
    if (session.interrupted) break;
    if (opts.only && !opts.only.includes(category.name)) continue;
    let checks: Check[];
    const started = Date.now();
    try {
      checks = await category.plan(session, await session.connection());
    } catch (err) {
      if (session.interrupted) break;
      emit({ id: `${category.name}/plan`, category: category.name, title: `planning the ${category.name} checks`, status: 'fail', message: messageOf(err), durationMs: Date.now() - started });
      continue;
    }
    for (const check of checks) {
      if (session.interrupted) break;
      emit(await runCheck(session, category.name, check, opts.expected));
    }
  }
  return { results };
}

async function runCheck(session: Session, category: CategoryName, check: Check, expected: ExpectedData): Promise<CheckResult> {
  const base = { id: check.id, category, title: check.title };
  if (check.notOffered !== undefined) return { ...base, status: 'not offered', message: check.notOffered, durationMs: 0 };
  if (check.skipped !== undefined) return { ...base, status: 'skipped', message: check.skipped, durationMs: 0 };
  const observed: Observations = {};
  const t: CheckContext = { session, observe: (key, value) => void (observed[key] = value) };
  session.exchanges = [];
  const started = Date.now();
  const apacheKafka = expected.checks[check.id];
  try {
    // The stop does not wait for the check: it may be waiting on a broker for a minute.
    const stopped = session.whenInterrupted.then((reason) => Promise.reject(new Interrupted(`stopped by ${reason}`)));
    await withTimeout(Promise.race([check.run(t), stopped]), CHECK_TIMEOUT_MS, `${check.id} took more than ${CHECK_TIMEOUT_MS / 1000} s`);
  } catch (err) {
    // Whatever the check saw after the stop (a refused call, a closed connection) is no verdict on the broker.
    if (session.interrupted) return { ...base, status: 'interrupted', message: `stopped by ${session.interrupted}`, durationMs: Date.now() - started };
    if (err instanceof NotOffered) return { ...base, status: 'not offered', message: err.message, durationMs: Date.now() - started };
    const last = session.exchanges.at(-1);
    return {
      ...base,
      status: 'fail',
      message: messageOf(err),
      ...(err instanceof CheckFailure && err.diff.length > 0 ? { diff: err.diff } : {}),
      ...(Object.keys(observed).length > 0 ? { observed } : {}),
      ...(apacheKafka ? { apacheKafka } : {}),
      ...(last ? { exchange: await renderExchange(last, session.clientId) } : {}),
      durationMs: Date.now() - started,
    };
  }
  const durationMs = Date.now() - started;
  const difference = compareWithKafka(expected, check.id, observed);
  if (difference) {
    return { ...base, status: 'differs', message: `differs from Apache Kafka ${difference.release}`, diff: difference.diff, observed, apacheKafka: apacheKafka!, durationMs };
  }
  return { ...base, status: 'pass', observed, durationMs };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new CheckFailure(message)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
