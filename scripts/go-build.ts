/**
 * Builds a small Go `main` of this repository (kfake, the proxy test's franz-go client)
 * with the Go toolchain; the Go module proxy provides its modules on the first build.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** Whether `go` is on the PATH (what needs it is skipped without it). */
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

/** Builds `sourceDir` into `binary` unless the binary is newer than main.go, go.mod and go.sum. */
export async function ensureGoBinary(sourceDir: string, binary: string): Promise<string> {
  const sources = await Promise.all(['main.go', 'go.mod', 'go.sum'].map((f) => mtime(path.join(sourceDir, f))));
  if ((await mtime(binary)) > Math.max(...sources)) return binary;
  await mkdir(path.dirname(binary), { recursive: true });
  // Built beside and renamed into place: two test files (or a test and `npm run broker`)
  // may build at once, and neither may start a half-written binary.
  const temp = `${binary}.${process.pid}`;
  await promisify(execFile)('go', ['build', '-o', temp, '.'], { cwd: sourceDir, timeout: 600_000 });
  await rename(temp, binary);
  return binary;
}
