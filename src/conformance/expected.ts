/**
 * What Apache Kafka answered, by check and release: expected-answers.ts (JSON in a
 * module, so the package ships it as JavaScript), written by
 * `kafka-wire conformance --record RELEASE` against a real Kafka and committed; or a
 * JSON file of the same shape given with --expected.
 * A check's observations are compared with every release recorded; matching any is a
 * pass, since releases differ among themselves too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { UsageError } from '../cli/usage-error.js';
import { EXPECTED } from './expected-answers.js';
import { diffJson } from './failure.js';
import type { CheckResult, Json } from './types.js';

export type Observations = Record<string, Json>;

export interface ExpectedData {
  /** Releases recorded, e.g. `4.3.1`. */
  releases: string[];
  /** check id → release → observations. */
  checks: Record<string, Record<string, Observations>>;
}

/** Where --record writes by default: the module next to this one (in src/, run with tsx). */
export const DEFAULT_EXPECTED_FILE = fileURLToPath(new URL('./expected-answers.ts', import.meta.url));

/**
 * Whether this code runs from the source checkout (src/*.ts, through tsx or vitest). Built
 * (dist/, or an installed package in node_modules), it reads the compiled expected-answers.js:
 * a .ts written beside it would never be read, and in node_modules it would not be ours to write.
 */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The file --record writes: --expected's, else the committed module, which only a run from
 * the source checkout may rewrite. A UsageError otherwise, before the run.
 */
export function recordTarget(expected: string | undefined, fromSource = RUNNING_FROM_SOURCE): string {
  if (expected !== undefined) return expected;
  if (!fromSource) {
    throw new UsageError('--record rewrites src/conformance/expected-answers.ts: run it from the source checkout (npx tsx src/bin.ts conformance --record ...), or give --expected FILE');
  }
  return DEFAULT_EXPECTED_FILE;
}

/**
 * The committed answers (imported, so that the build ships them), or those of `file`. A
 * file not there yet is an empty one when `recording` (--record writes it), and a usage
 * error otherwise: a mistyped path would compare nothing and pass.
 */
export function loadExpected(file?: string, recording = false): ExpectedData {
  if (file === undefined) return structuredClone(EXPECTED);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (recording) return { releases: [], checks: {} };
    throw new UsageError(`--expected ${file}: no such file (--record RELEASE --expected ${file} writes one)`);
  }
  // saveExpected writes a .ts file as a module around the JSON: read that JSON back.
  const json = file.endsWith('.ts') ? text.slice(text.indexOf(EXPORT_HEAD) + EXPORT_HEAD.length).trim().replace(/;$/, '') : text;
  const notExpected = (why: string): UsageError => new UsageError(`--expected ${file}: not a file of expected answers (JSON, or the .ts module --record writes): ${why}`);
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw notExpected((err as Error).message);
  }
  const { releases, checks } = (typeof data === 'object' && data !== null ? data : {}) as Partial<Record<keyof ExpectedData, unknown>>;
  if (!Array.isArray(releases) || !releases.every((r) => typeof r === 'string')) throw notExpected('no "releases" list of strings');
  if (typeof checks !== 'object' || checks === null || Array.isArray(checks)) throw notExpected('no "checks" object');
  return { releases, checks: checks as ExpectedData['checks'] };
}

const EXPORT_HEAD = 'export const EXPECTED: ExpectedData = ';

/** Replaces what `release` answered with this run's observations; keeps the other releases. */
export function recordRelease(data: ExpectedData, release: string, results: readonly CheckResult[]): ExpectedData {
  const checks: ExpectedData['checks'] = {};
  for (const [id, byRelease] of Object.entries(data.checks)) {
    const { [release]: _, ...others } = byRelease;
    if (Object.keys(others).length > 0) checks[id] = others;
  }
  for (const r of results) {
    if (r.observed === undefined || (r.status !== 'pass' && r.status !== 'differs')) continue;
    checks[r.id] = { ...checks[r.id], [release]: r.observed };
  }
  const sorted = Object.fromEntries(Object.keys(checks).sort().map((id) => [id, sortKeys(checks[id]!)]));
  return { releases: [...new Set([...data.releases, release])].sort(), checks: sorted };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
}

/** A JSON file, or (for the default file) the module that holds the JSON. */
export function saveExpected(data: ExpectedData, file = DEFAULT_EXPECTED_FILE): void {
  // One check a line: diffs of a new recording read check by check.
  const lines = Object.entries(data.checks).map(([id, byRelease]) => `    ${JSON.stringify(id)}: ${JSON.stringify(byRelease)}`);
  const json = `{\n  "releases": ${JSON.stringify(data.releases)},\n  "checks": {\n${lines.join(',\n')}\n  }\n}`;
  if (!file.endsWith('.ts')) return writeFileSync(file, `${json}\n`);
  const head = [
    '/** What Apache Kafka answered each check: written by `kafka-wire conformance --record RELEASE`; not edited by hand. */',
    "import type { ExpectedData } from './expected.js';",
    '',
  ];
  writeFileSync(file, `${head.join('\n')}\n${EXPORT_HEAD}${json};\n`);
}

/** null when the observations match a recorded release (or none is recorded); else the diff against the newest. */
export function compareWithKafka(data: ExpectedData, id: string, observed: Observations): { release: string; diff: string[] } | null {
  const byRelease = data.checks[id];
  if (!byRelease || Object.keys(byRelease).length === 0) return null;
  if (Object.values(byRelease).some((expected) => isDeepStrictEqual(expected, observed))) return null;
  const release = Object.keys(byRelease).sort().at(-1)!;
  return { release, diff: diffJson(byRelease[release], observed) };
}
