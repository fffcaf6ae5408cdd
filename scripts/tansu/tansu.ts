/**
 * Tansu (the Rust crate `tansu`, a Kafka-compatible broker written independently of
 * Apache Kafka) for the conformance suite: built once from crates.io with
 * `cargo install tansu --version 0.6.0 --features dynostore --root .cache/tansu` (the
 * `dynostore` feature carries the memory storage engine; without it the broker exits at
 * start), and started with memory storage on a free loopback port.
 *
 * The build takes 8-16 minutes on two cores (16 beside other work); its target folder stays under
 * .cache/tansu/target so a rebuild is incremental. CI does not build it: the tests that
 * need it run only when .cache/tansu/bin/tansu already exists.
 *
 *   npx tsx scripts/tansu/tansu.ts build     # build (or find) the binary, print its path
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from '../kafka/paths.js';
import { LOOPBACK, freePorts } from '../kafka/ports.js';
import { trackChild } from '../kafka/reaper.js';
import { sleep } from '../kafka/util.js';

export const TANSU_VERSION = '0.6.0';
const ROOT = path.join(CACHE_DIR, 'tansu');
export const TANSU_BINARY = path.join(ROOT, 'bin', 'tansu');
const START_TIMEOUT_MS = 20_000;

export interface RunningTansu {
  bootstrap: string;
  pid: number;
  stop(): Promise<void>;
}

/** Whether the binary is already built (the Tansu checks are skipped without it). */
export function hasTansu(): boolean {
  return existsSync(TANSU_BINARY);
}

/** The binary, built with cargo first when it is missing (minutes: progress goes to `progress`). */
export async function ensureTansu(options: { progress?: NodeJS.WritableStream } = {}): Promise<string> {
  if (hasTansu()) return TANSU_BINARY;
  await mkdir(ROOT, { recursive: true });
  const args = ['install', 'tansu', '--version', TANSU_VERSION, '--features', 'dynostore', '--root', ROOT];
  options.progress?.write(`building Tansu ${TANSU_VERSION}: cargo ${args.join(' ')} (8-16 minutes on two cores)\n`);
  const child = spawn('cargo', args, {
    env: { ...process.env, CARGO_TARGET_DIR: path.join(ROOT, 'target') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    options.progress?.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0 || !hasTansu()) throw new Error(`cargo install tansu failed (${code}):\n${tail}`);
  return TANSU_BINARY;
}

/**
 * Starts `tansu broker` with memory storage, listening on and advertising a free loopback
 * port, and resolves once that port takes connections.
 */
export async function startTansu(): Promise<RunningTansu> {
  const binary = await ensureTansu();
  const [port] = await freePorts(1);
  const url = `tcp://${LOOPBACK}:${port}`;
  const args = [
    'broker',
    '--listener-url', url,
    '--advertised-listener-url', url,
    '--storage-engine', 'memory://tansu/',
  ];
  // Tansu reads a .env from its working folder; start it where there is none.
  const child = spawn(binary, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, RUST_LOG: process.env['RUST_LOG'] ?? 'warn' } });
  trackChild(child);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `tansu exited (${code ?? signal}) before listening`));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(exited);
    if (await accepts(port!)) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`tansu did not listen on ${LOOPBACK}:${port} within ${START_TIMEOUT_MS / 1000} s`);
    }
    await sleep(100);
  }
  return { bootstrap: `${LOOPBACK}:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'build') {
  const started = Date.now();
  ensureTansu({ progress: process.stderr }).then(
    (binary) => process.stdout.write(`${binary} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
