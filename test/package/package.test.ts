/**
 * The package as npm publishes it: built, packed, linted by publint and
 * @arethetypeswrong/cli, installed into a scratch project and used from ESM, CommonJS and
 * TypeScript (node16, nodenext, bundler). No broker; the steps live in
 * scripts/package/check.ts, which `npm run check:package` runs too.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attw,
  buildAndPack,
  contentProblems,
  installScratch,
  makeWorkDir,
  moduleEntries,
  publintMessages,
  runSmoke,
  TS_PROJECTS,
  typecheck,
  type Packed,
  type Scratch,
} from '../../scripts/package/check.js';

// A build, a pack and an npm install: generous, on a shared 2-core machine.
const SLOW = 180_000;

describe('the published package', { timeout: SLOW }, () => {
  let workDir: string;
  let packed: Packed;

  beforeAll(async () => {
    workDir = await makeWorkDir();
    packed = await buildAndPack(workDir);
  }, SLOW);

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('holds dist (no source maps), README, LICENSE, CHANGELOG, the docs the README links to, and every export target', () => {
    expect(contentProblems(packed)).toEqual([]);
    expect(packed.files).toContain('dist/index.js');
    expect(packed.files).toContain('docs/delivery-semantics.md');
    expect(packed.files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
  });

  it('exports the four entries, types first', () => {
    expect(moduleEntries(packed.manifest).map(([subpath]) => subpath)).toEqual(expect.arrayContaining(['.', './wire', './decode', './protocol']));
  });

  it('publint has nothing to say, suggestions included', async () => {
    expect(await publintMessages(packed.tarball)).toEqual([]);
  });

  it('attw: every entry has types in node10, node16 (CJS and ESM) and bundler resolution', async () => {
    const entries = moduleEntries(packed.manifest).map(([subpath]) => subpath);
    const result = await attw(packed.tarball, entries);
    expect(result.problems).toEqual([]);
    // The one allowed problem: require(esm), which TypeScript's node16 does not model.
    expect(result.allowed).toBe(entries.length);
  });

  describe.concurrent('installed into a scratch project', () => {
    let scratch: Scratch;

    beforeAll(async () => {
      scratch = await installScratch(workDir, packed.tarball);
    }, SLOW);

    it('works from ESM: import', async () => {
      expect(await runSmoke(scratch, 'esm')).toBe('esm ok');
    });

    it('works from CommonJS: require', async () => {
      expect(await runSmoke(scratch, 'cjs')).toBe('cjs ok');
    });

    it.each(TS_PROJECTS.map((p) => p.mode))('type-checks under TypeScript %s resolution', async (mode) => {
      expect(await typecheck(scratch, mode)).toBe('');
    });
  });
});
