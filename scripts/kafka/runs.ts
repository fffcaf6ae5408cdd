import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { CACHE_DIR } from './paths.js';
import { isProcessAlive } from './util.js';

/**
 * Every process that starts clusters gets one run folder,
 * `.cache/runs/<timestamp>-<pid>/`, holding one sub-folder per cluster. The
 * timestamp makes names sort by age; the pid tells whether the owner lives.
 */

export const RUNS_DIR = path.join(CACHE_DIR, 'runs');
const RUNS_TO_KEEP = 5;

let currentRun: Promise<string> | undefined;

export function currentRunDir(): Promise<string> {
  currentRun ??= createRunDir();
  return currentRun;
}

/** A fresh folder for one cluster inside this process's run folder. */
export async function clusterDir(name: string): Promise<string> {
  const runDir = await currentRunDir();
  for (let attempt = 1; ; attempt++) {
    const dir = path.join(runDir, attempt === 1 ? name : `${name}-${attempt}`);
    if (!existsSync(dir)) {
      await mkdir(dir, { recursive: true });
      return dir;
    }
  }
}

async function createRunDir(): Promise<string> {
  await mkdir(RUNS_DIR, { recursive: true });
  await killOrphanedBrokers();
  await pruneRuns();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(RUNS_DIR, `${stamp}-${process.pid}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Keeps the newest runs (they hold the logs someone may still want to read)
 * and never touches a run whose process is alive: a background broker or a
 * parallel vitest may still be using it.
 */
async function pruneRuns(): Promise<void> {
  const runs = (await readdir(RUNS_DIR)).filter((name) => ownerPid(name) !== undefined).sort();
  for (const name of runs.slice(0, Math.max(0, runs.length - (RUNS_TO_KEEP - 1)))) {
    const pid = ownerPid(name);
    if (pid !== undefined && pid !== process.pid && !isProcessAlive(pid)) {
      await rm(path.join(RUNS_DIR, name), { recursive: true, force: true });
    }
  }
}

/**
 * A process killed with SIGKILL cannot stop its JVMs, so they linger with
 * their ports and CPU. Each broker's command line names its run folder, whose
 * name holds the owner's pid: a broker whose owner is dead is an orphan.
 * Linux only (/proc); elsewhere this does nothing.
 */
async function killOrphanedBrokers(): Promise<void> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  const runsPrefix = `${RUNS_DIR}${path.sep}`;
  for (const pid of pids) {
    let commandLine: string;
    try {
      commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // Gone already, or not ours to read.
    }
    const at = commandLine.indexOf(runsPrefix);
    if (at < 0 || !commandLine.includes('\0kafka.Kafka\0')) continue;
    const runName = commandLine.slice(at + runsPrefix.length).split(path.sep)[0] ?? '';
    const owner = ownerPid(runName);
    if (owner !== undefined && !isProcessAlive(owner)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
  }
}

function ownerPid(runName: string): number | undefined {
  const match = /-(\d+)$/.exec(runName);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
