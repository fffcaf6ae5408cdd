/**
 * Builds the franz-go client of the proxy's client test (scripts/proxy-clients/franz/)
 * into .cache/proxy-clients/franz with the Go toolchain, as scripts/kfake/kfake.ts builds
 * kfake: only when a source is newer than the binary, beside its final path and renamed
 * into place, so two builds at once never run a half-written binary.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, REPO_ROOT } from '../kafka/paths.js';

const SOURCE_DIR = path.join(REPO_ROOT, 'scripts', 'proxy-clients', 'franz');
export const FRANZ_CLIENT_BINARY = path.join(CACHE_DIR, 'proxy-clients', 'franz');

export async function hasGo(): Promise<boolean> {
  return promisify(execFile)('go', ['version']).then(
    () => true,
    () => false,
  );
}

async function mtime(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.mtimeMs,
    () => 0,
  );
}

export async function ensureFranzClient(): Promise<string> {
  const sources = await Promise.all(['main.go', 'go.mod', 'go.sum'].map((f) => mtime(path.join(SOURCE_DIR, f))));
  if ((await mtime(FRANZ_CLIENT_BINARY)) > Math.max(...sources)) return FRANZ_CLIENT_BINARY;
  await mkdir(path.dirname(FRANZ_CLIENT_BINARY), { recursive: true });
  const temp = `${FRANZ_CLIENT_BINARY}.${process.pid}`;
  await promisify(execFile)('go', ['build', '-o', temp, '.'], { cwd: SOURCE_DIR, timeout: 600_000 });
  await rename(temp, FRANZ_CLIENT_BINARY);
  return FRANZ_CLIENT_BINARY;
}
