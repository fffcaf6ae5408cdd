import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KafkaCluster } from './cluster.js';
import { CACHE_DIR } from './paths.js';
import { isErrno, isProcessAlive } from './util.js';

/**
 * State of the background brokers that `npm run broker -- start` leaves
 * running: one JSON file per name in `.cache/brokers/`, written by the
 * supervisor once the cluster serves and removed when it stops.
 */

export const BROKERS_DIR = path.join(CACHE_DIR, 'brokers');

export interface BrokerState {
  name: string;
  version: string;
  bootstrap: string;
  supervisorPid: number;
  /** The cluster's folder under .cache/runs, with each node's server.log. */
  dir: string;
  supervisorLog: string;
  startedAt: string;
  nodes: { id: number; port: number; controllerPort: number; pid: number | null; logFile: string }[];
  /** With `start --secure`: the secured listeners' addresses, the CA and client certificate files, the users. */
  security?: {
    listeners: Record<string, string>;
    caFile: string | undefined;
    clientCertFile: string | undefined;
    clientKeyFile: string | undefined;
    users: { name: string; password: string }[];
  };
}

export function stateFile(name: string): string {
  return path.join(BROKERS_DIR, `${name}.json`);
}

export function supervisorLogFile(name: string): string {
  return path.join(BROKERS_DIR, `${name}.log`);
}

export function brokerState(name: string, cluster: KafkaCluster): BrokerState {
  return {
    name,
    version: cluster.version,
    bootstrap: cluster.bootstrap,
    supervisorPid: process.pid,
    dir: cluster.dir,
    supervisorLog: supervisorLogFile(name),
    startedAt: new Date().toISOString(),
    nodes: cluster.nodes.map((node) => ({
      id: node.id,
      port: node.port,
      controllerPort: node.controllerPort,
      pid: node.pid ?? null,
      logFile: node.logFile,
    })),
    ...(cluster.security
      ? {
          security: {
            listeners: { ...cluster.security.listeners } as Record<string, string>,
            caFile: cluster.security.certificates?.ca.certFile,
            clientCertFile: cluster.security.certificates?.client.certFile,
            clientKeyFile: cluster.security.certificates?.client.keyFile,
            users: cluster.security.users.map((u) => ({ name: u.name, password: u.password })),
          },
        }
      : {}),
  };
}

/** Written via rename so a reader never sees half a file. */
export async function writeState(state: BrokerState): Promise<void> {
  await mkdir(BROKERS_DIR, { recursive: true });
  const file = stateFile(state.name);
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(temp, JSON.stringify(state, null, 2) + '\n');
  await rename(temp, file);
}

export async function readState(name: string): Promise<BrokerState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(name), 'utf8')) as BrokerState;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

export async function removeState(name: string): Promise<void> {
  await rm(stateFile(name), { force: true });
}

export async function allStates(): Promise<BrokerState[]> {
  let names: string[];
  try {
    names = await readdir(BROKERS_DIR);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const states = await Promise.all(
    names.filter((file) => file.endsWith('.json')).map((file) => readState(file.slice(0, -'.json'.length))),
  );
  return states.filter((state): state is BrokerState => state !== undefined);
}

/**
 * Whether `pid` is alive and still the process we recorded: pids get reused,
 * and signalling a stranger would be worse than leaving a stale file. Where
 * /proc is unavailable the pid alone has to do.
 */
export function isOurProcess(pid: number | null, commandLineMarker: string): boolean {
  if (pid === null || !isProcessAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(commandLineMarker);
  } catch {
    return true;
  }
}

/** The supervisor's command is the CLI's `supervise` subcommand; /proc separates arguments with NUL. */
export const SUPERVISOR_COMMAND = 'supervise';
export const SUPERVISOR_MARKER = `broker.ts\0${SUPERVISOR_COMMAND}`;
export const BROKER_MARKER = '\0kafka.Kafka\0';
