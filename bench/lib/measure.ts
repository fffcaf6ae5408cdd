/**
 * Runs one child process under GNU time, so its CPU and peak RSS are measured
 * from outside (getrusage of the waited child: every thread of the process)
 * the same way for the JVM and for Node.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface OutsideMeasure {
  wallS: number;
  userS: number;
  systemS: number;
  maxRssKiB: number;
}

export interface MeasuredRun {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Undefined when GNU time is missing or the child was killed before it reported. */
  outside: OutsideMeasure | undefined;
}

export interface MeasuredRunOptions {
  cwd?: string;
  timeoutMs: number;
  /** Echo the child's stderr as it comes (progress and errors). */
  echoStderr?: boolean;
}

/** Process groups of children still running; killed if the orchestrator exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Kills every measured child still running. */
export function killLiveGroups(): void {
  for (const group of liveGroups) killGroup(group);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killLiveGroups);
}

export async function runMeasured(command: string, args: readonly string[], options: MeasuredRunOptions): Promise<MeasuredRun> {
  installExitHook();
  const withTime = existsSync(GNU_TIME);
  const dir = await mkdtemp(path.join(tmpdir(), 'kafka-wire-bench-'));
  const timeFile = path.join(dir, 'time');
  const [file, argv] = withTime
    ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, command, ...args]]
    : [command, [...args]];
  try {
    const result = await new Promise<Omit<MeasuredRun, 'outside'>>((resolve, reject) => {
      // Its own process group, so a timeout (or our exit) ends GNU time and the measured process together.
      const child = spawn(file, argv, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const group = child.pid;
      if (group !== undefined) liveGroups.add(group);
      child.once('exit', () => group !== undefined && liveGroups.delete(group));
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        if (options.echoStderr) process.stderr.write(chunk);
      });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (group !== undefined) killGroup(group);
      }, options.timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (exitCode, signal) => {
        clearTimeout(timer);
        resolve({
          command: [command, ...args].map((a) => (a.length > 200 ? `${a.slice(0, 200)}…` : a)).join(' '),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          exitCode,
          signal,
          timedOut,
        });
      });
    });
    let outside: OutsideMeasure | undefined;
    if (withTime && existsSync(timeFile)) outside = parseTime(await readFile(timeFile, 'utf8'));
    // GNU time writes "Command exited with non-zero status N" first when the child failed.
    if (withTime && result.exitCode !== 0) {
      const status = /Command exited with non-zero status (\d+)/.exec(await readFile(timeFile, 'utf8').catch(() => ''));
      if (status) result.exitCode = Number(status[1]);
    }
    return { ...result, outside };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseTime(text: string): OutsideMeasure | undefined {
  const line = text.trim().split('\n').at(-1) ?? '';
  const [wall, user, system, rss] = line.split(' ').map(Number);
  if ([wall, user, system, rss].some((n) => n === undefined || !Number.isFinite(n))) return undefined;
  return { wallS: wall!, userS: user!, systemS: system!, maxRssKiB: rss! };
}
