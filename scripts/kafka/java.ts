import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { trackChild } from './reaper.js';

/** Prefer JAVA_HOME so a machine with several JDKs runs the one it configured. */
export function javaBinary(): string {
  const home = process.env['JAVA_HOME'];
  if (home) {
    const candidate = path.join(home, 'bin', 'java');
    if (existsSync(candidate)) return candidate;
  }
  return 'java';
}

/**
 * JVM flags for short-lived tool runs: C1 only and a small serial heap start
 * noticeably faster, which matters when a test runs several tools.
 */
export const TOOL_JVM_OPTIONS: readonly string[] = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
];

export const BROKER_JVM_OPTIONS: readonly string[] = [
  '-Xms256m',
  '-Xmx768m',
  '-XX:+UseG1GC',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
];

export interface ProcessResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion, capturing its output; never rejects on a non-zero exit. */
export function runProcess(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);

    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);

    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Could not run ${command}: ${error.message}`, { cause: error }));
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        command: [command, ...args].join(' '),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitCode,
        signal,
        timedOut,
      });
    });
  });
}
