/**
 * franz-go's kfake (an in-memory Kafka written independently of Apache Kafka) for the
 * conformance suite: built once with the Go toolchain from scripts/kfake/ into
 * .cache/kfake/, rebuilt when main.go, go.mod or go.sum is newer, and started on a free
 * loopback port. The Go module proxy provides its modules on the first build.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, REPO_ROOT } from '../kafka/paths.js';
import { trackChild } from '../kafka/reaper.js';

const SOURCE_DIR = path.join(REPO_ROOT, 'scripts', 'kfake');
export const KFAKE_BINARY = path.join(CACHE_DIR, 'kfake', 'kfake');
const START_TIMEOUT_MS = 10_000;

export interface RunningKfake {
  bootstrap: string;
  pid: number;
  stop(): Promise<void>;
}

/** Whether `go` is on the PATH (the kfake checks are skipped without it). */
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

/** Builds .cache/kfake/kfake unless it is newer than its sources. */
export async function ensureKfake(): Promise<string> {
  const sources = await Promise.all(['main.go', 'go.mod', 'go.sum'].map((f) => mtime(path.join(SOURCE_DIR, f))));
  if ((await mtime(KFAKE_BINARY)) > Math.max(...sources)) return KFAKE_BINARY;
  await mkdir(path.dirname(KFAKE_BINARY), { recursive: true });
  // Built beside and renamed into place: two test files (or a test and `npm run broker`)
  // may build at once, and neither may start a half-written binary.
  const temp = `${KFAKE_BINARY}.${process.pid}`;
  await promisify(execFile)('go', ['build', '-o', temp, '.'], { cwd: SOURCE_DIR, timeout: 600_000 });
  await rename(temp, KFAKE_BINARY);
  return KFAKE_BINARY;
}

/** Starts kfake and resolves once it prints its address. */
export async function startKfake(): Promise<RunningKfake> {
  const child = spawn(await ensureKfake(), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  trackChild(child);
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kfake did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /^listening (\S+)$/m.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`kfake exited with ${code} before listening`)));
  });
  return { bootstrap, pid: child.pid!, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
