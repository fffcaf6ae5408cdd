/**
 * `kafka-wire conformance` before and after the checks: what it refuses up front (a
 * report it could not write, a file of expected answers it cannot read), one error for a
 * broker it cannot reach, and the expected answers read back as --record wrote them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/usage-error.js';
import { runConformance } from '../../../src/conformance/command.js';
import { loadExpected, recordTarget, saveExpected } from '../../../src/conformance/expected.js';
import { ConnectionError } from '../../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-conformance-'));
  dirs.push(dir);
  return dir;
}

describe('kafka-wire conformance', () => {
  it.each([
    [{ junit: '/no/such/dir/report.xml' }, '--junit /no/such/dir/report.xml: cannot be written (ENOENT)'],
    [{ markdown: 'Name=/no/such/dir/report.md' }, '--markdown /no/such/dir/report.md: cannot be written (ENOENT)'],
    [{ record: '4.3.1', expected: '/no/such/dir/expected.json' }, '--expected /no/such/dir/expected.json: cannot be written (ENOENT)'],
    [{ prefix: 'bad prefix!' }, '--prefix "bad prefix!" may hold only ASCII letters, digits, ".", "_" and "-"'],
    [{ prefix: '' }, '--prefix "" is empty'],
    [{ prefix: 'p'.repeat(200) }, `--prefix "${'p'.repeat(200)}" is 200 characters long, over 193`],
  ])('refuses %o before it runs anything', async (opts, message) => {
    // Port 1: a run would fail to connect; the usage error must come first.
    await expect(runConformance({ bootstrap: '127.0.0.1:1', ...opts })).rejects.toThrow(new UsageError(message));
  });

  it('--record without --expected rewrites the committed module: from the source checkout only, else a usage error before the run', () => {
    expect(recordTarget(undefined, true)).toMatch(/src\/conformance\/expected-answers\.ts$/);
    expect(recordTarget('answers.json', false)).toBe('answers.json');
    expect(() => recordTarget(undefined, false)).toThrow(
      new UsageError('--record rewrites src/conformance/expected-answers.ts: run it from the source checkout (npx tsx src/bin.ts conformance --record ...), or give --expected FILE'),
    );
  });

  it('a broker it cannot reach is one ConnectionError, not a failure per category', async () => {
    const err = await runConformance({ bootstrap: '127.0.0.1:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:1/);
  });

  it('reads back the expected answers --record wrote, as JSON or as a .ts module; anything else is a usage error', () => {
    const dir = tempDir();
    const data = { releases: ['4.3.1'], checks: { 'produce/x': { '4.3.1': { sameBytes: true } } } };
    for (const name of ['expected.json', 'expected.ts']) {
      saveExpected(data, join(dir, name));
      expect(loadExpected(join(dir, name))).toEqual(data);
    }
    writeFileSync(join(dir, 'bad.json'), 'not json');
    expect(() => loadExpected(join(dir, 'bad.json'))).toThrow(UsageError);
    expect(() => loadExpected(join(dir, 'bad.json'))).toThrow(/^--expected .*bad\.json: not a file of expected answers/);
    // A file not there yet is one --record will write; without --record, a mistyped path.
    expect(loadExpected(join(dir, 'missing.json'), true)).toEqual({ releases: [], checks: {} });
    expect(() => loadExpected(join(dir, 'missing.json'))).toThrow(/^--expected .*missing\.json: no such file/);
    for (const [content, why] of [['{}', 'no "releases"'], ['{"releases":["4.3.1"]}', 'no "checks"'], ['[]', 'no "releases"'], ['null', 'no "releases"']] as const) {
      writeFileSync(join(dir, 'shape.json'), content);
      expect(() => loadExpected(join(dir, 'shape.json'))).toThrow(UsageError);
      expect(() => loadExpected(join(dir, 'shape.json'))).toThrow(why);
    }
  });
});
