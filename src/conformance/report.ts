/** The suite's results for people (progress lines, a summary table) and for machines (JSON, JUnit XML). */
import type { SuiteReport } from './runner.js';
import type { CheckResult, Status } from './types.js';
import { CATEGORIES } from './types.js';

const STATUSES: readonly Status[] = ['pass', 'fail', 'differs', 'not offered', 'skipped', 'interrupted'];

/** The columns of a table of `results`: interrupted only when a run was stopped, so complete runs' tables stay as they were. */
function columns(results: readonly CheckResult[]): Status[] {
  return STATUSES.filter((s) => s !== 'interrupted' || results.some((r) => r.status === s));
}

/** One line per check, as it ends. */
export function progressLine(r: CheckResult): string {
  const why = r.status === 'pass' ? '' : r.message ? `  ${r.message}` : '';
  return `${r.status.padEnd(11)} ${r.id}${why} (${r.durationMs} ms)`;
}

/** For each failure and difference: the diff, the exchange as `kafka-wire decode` prints it, and Kafka's answers. */
export function formatDetails(results: readonly CheckResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    if (r.status !== 'fail' && r.status !== 'differs') continue;
    out.push('', `${r.status.toUpperCase()} ${r.id}: ${r.title}`, `  ${r.message ?? ''}`);
    if (r.diff) out.push('  expected (-) / actual (+):', ...r.diff.map((l) => `    ${l}`));
    if (r.apacheKafka) for (const [release, obs] of Object.entries(r.apacheKafka)) out.push(`  Apache Kafka ${release} answers: ${JSON.stringify(obs)}`);
    if (r.exchange) {
      out.push(`  request (${r.exchange.api} v${r.exchange.version}):`, indent(r.exchange.request, 4));
      out.push('  answer:', r.exchange.response === null ? '    (none: acks=0)' : indent(r.exchange.response, 4));
    }
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
}

export function counts(results: readonly CheckResult[]): Record<Status, number> {
  const c = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  for (const r of results) c[r.status]++;
  return c;
}

/** Checks per category and status. */
export function summaryTable(report: SuiteReport): string {
  const statuses = columns(report.results);
  const rows = [['category', ...statuses]];
  for (const category of CATEGORIES) {
    const mine = report.results.filter((r) => r.category === category);
    if (mine.length === 0) continue;
    const c = counts(mine);
    rows.push([category, ...statuses.map((s) => String(c[s]))]);
  }
  const total = counts(report.results);
  rows.push(['total', ...statuses.map((s) => String(total[s]))]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  const compared = report.apacheKafka.length > 0 ? `compared with Apache Kafka ${report.apacheKafka.join(', ')}` : 'no Apache Kafka answers recorded';
  return `${lines.join('\n')}\n${report.bootstrap}: ${report.results.length} checks in ${(report.durationMs / 1000).toFixed(1)} s, ${compared}\n`;
}

export function toJsonReport(report: SuiteReport): string {
  return `${JSON.stringify({ ...report, counts: counts(report.results) }, null, 2)}\n`;
}

/** JUnit XML: a test suite per category, a test case per check; differs are passes with a note. */
export function toJUnit(report: SuiteReport): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const total = counts(report.results);
  lines.push(`<testsuites name="kafka-wire conformance" tests="${report.results.length}" failures="${total.fail}" skipped="${total.skipped + total['not offered'] + total.interrupted}" time="${seconds(report.durationMs)}">`);
  for (const category of CATEGORIES) {
    const mine = report.results.filter((r) => r.category === category);
    if (mine.length === 0) continue;
    const c = counts(mine);
    const time = mine.reduce((s, r) => s + r.durationMs, 0);
    lines.push(`  <testsuite name="${category}" tests="${mine.length}" failures="${c.fail}" skipped="${c.skipped + c['not offered'] + c.interrupted}" time="${seconds(time)}">`);
    for (const r of mine) lines.push(...testCase(r));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function testCase(r: CheckResult): string[] {
  const open = `    <testcase classname="${xml(r.category)}" name="${xml(r.id)}" time="${seconds(r.durationMs)}"`;
  const detail = formatDetails([r]).trim();
  switch (r.status) {
    case 'pass':
      return [`${open}/>`];
    case 'fail':
      return [`${open}>`, `      <failure message="${xml(r.message ?? 'failed')}">${xml(detail)}</failure>`, '    </testcase>'];
    case 'differs':
      return [`${open}>`, `      <system-out>${xml(detail)}</system-out>`, '    </testcase>'];
    default:
      return [`${open}>`, `      <skipped message="${xml(`${r.status}: ${r.message ?? ''}`)}"/>`, '    </testcase>'];
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function xml(s: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the rest are escaped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A committed report (docs/conformance/<implementation>.md): the table, then every check that did not pass. */
export function toMarkdown(report: SuiteReport, implementation: string): string {
  const total = counts(report.results);
  const statuses = columns(report.results);
  const lines = [
    `# ${implementation}: kafka-wire conformance report`,
    '',
    `Written by \`kafka-wire conformance --markdown\` (${report.startedAt.slice(0, 10)}); ${report.results.length} checks in ${(report.durationMs / 1000).toFixed(1)} s,`,
    `compared with the answers recorded from Apache Kafka ${report.apacheKafka.join(' and ') || '(none)'}.`,
    '',
    `| category | ${statuses.join(' | ')} |`,
    `| --- |${' ---: |'.repeat(statuses.length)}`,
  ];
  for (const category of CATEGORIES) {
    const mine = report.results.filter((r) => r.category === category);
    if (mine.length === 0) continue;
    const c = counts(mine);
    lines.push(`| ${category} | ${statuses.map((s) => c[s]).join(' | ')} |`);
  }
  lines.push(`| **total** | ${statuses.map((s) => total[s]).join(' | ')} |`, '');
  const others = report.results.filter((r) => r.status !== 'pass');
  if (others.length === 0) lines.push('Every check passed.');
  for (const r of others) {
    lines.push(`- **${r.status}** \`${r.id}\`: ${r.message ?? r.title}`);
    for (const d of r.diff ?? []) lines.push(`  - \`${d}\``);
  }
  return `${lines.join('\n')}\n`;
}
