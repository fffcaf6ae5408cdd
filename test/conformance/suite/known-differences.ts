/**
 * For the suite's runs against other implementations: which checks do not pass there,
 * as check id → status, with everything the suite printed for the assertion message.
 */
import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import { runConformance } from '../../../src/conformance/command.js';

/** Runs the whole suite (with --admin) against `bootstrap` and expects exactly `known` not to pass, and every topic deleted. */
export async function expectDifferences(bootstrap: string, known: Record<string, string>): Promise<void> {
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const { report } = await runConformance({ bootstrap, admin: true, out, err: out });
  const notPassing = Object.fromEntries(report.results.filter((r) => r.status !== 'pass').map((r) => [r.id, r.status]));
  expect(notPassing, printed).toEqual(known);
  expect(report.cleanupErrors).toEqual([]);
}
