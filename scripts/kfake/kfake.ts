/**
 * franz-go's kfake (an in-memory Kafka written independently of Apache Kafka) for the
 * conformance suite: built once with the Go toolchain from scripts/kfake/ into
 * .cache/kfake/, rebuilt when main.go, go.mod or go.sum is newer, and started on a free
 * loopback port. The Go module proxy provides its modules on the first build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ensureGoBinary, hasGo } from '../go-build.js';
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

export { hasGo };

/** Builds .cache/kfake/kfake unless it is newer than its sources. */
export function ensureKfake(): Promise<string> {
  return ensureGoBinary(SOURCE_DIR, KFAKE_BINARY);
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
