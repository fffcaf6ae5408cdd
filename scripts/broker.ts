/**
 * A real Kafka cluster in the background, for trying kafka-wire by hand.
 *
 *   npm run broker -- start [--impl kafka|kfake|tansu] [--nodes 1|3] [--kafka 4.3.1] [--name NAME] [--config key=value ...] [--secure]
 *   npm run broker -- stop [--name NAME]
 *   npm run broker -- status
 *   npm run broker -- fetch [--kafka VERSION]
 *
 * `start` prints the bootstrap address alone on the first line of stdout, so
 * `BOOTSTRAP=$(npm run -s broker -- start)` works; everything else goes to stderr.
 * The cluster is owned by a detached supervisor process that stops it
 * gracefully on SIGTERM, which is what `stop` sends.
 *
 * `--impl` picks the implementation: Apache Kafka (the default), franz-go's kfake (built
 * from scripts/kfake/ with the Go toolchain) or Tansu (built from crates.io by
 * scripts/tansu/ with cargo); the last two are one in-memory node each.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BROKER_MARKER,
  SUPERVISOR_COMMAND,
  SUPERVISOR_MARKER,
  allStates,
  brokerState,
  isOurProcess,
  readState,
  removeState,
  supervisorLogFile,
  writeState,
  BROKERS_DIR,
  type BrokerState,
} from './kafka/broker-state.js';
import { startCluster, type KafkaCluster } from './kafka/cluster.js';
import { DEFAULT_KAFKA, KAFKA_VERSIONS, KafkaDistError, ensureKafka } from './kafka/dist.js';
import { REPO_ROOT } from './kafka/paths.js';
import { KFAKE_BINARY, ensureKfake, startKfake } from './kfake/kfake.js';
import { TANSU_BINARY, TANSU_VERSION, ensureTansu, startTansu } from './tansu/tansu.js';
import { delegateSignalHandling } from './kafka/reaper.js';
import { sleep, tailFile } from './kafka/util.js';

const USAGE = `usage: npm run broker -- <start|stop|status|fetch> [options]
  start   [--impl kafka|kfake|tansu] [--nodes 1|3] [--kafka VERSION] [--name NAME] [--config key=value ...]
          [--secure]   (also SASL_PLAINTEXT, SSL, mutual-TLS and SASL_SSL listeners: printed with
                        their CA, client certificate and user, alice / alice-secret)
  stop    [--name NAME]
  status
  fetch   [--kafka VERSION]   (default: every supported version)
supported versions: ${KAFKA_VERSIONS.join(', ')}; default name: default; default impl: kafka
(--nodes, --kafka, --config and --secure apply to Apache Kafka only)`;

const IMPLS = ['kafka', 'kfake', 'tansu'] as const;
type Impl = (typeof IMPLS)[number];

/** The state file of a broker: which implementation it runs rides beside the Kafka fields. */
type ImplState = BrokerState & { impl?: Impl };

/** What a live node's command line contains, so a reused pid is never signalled. */
function nodeMarker(state: ImplState): string {
  switch (state.impl ?? 'kafka') {
    case 'kafka':
      return BROKER_MARKER;
    case 'kfake':
      return KFAKE_BINARY;
    case 'tansu':
      return TANSU_BINARY;
  }
}

function describe(state: ImplState): string {
  return state.impl === undefined || state.impl === 'kafka' ? `Kafka ${state.version}` : state.version;
}

const SUPERVISOR_START_TIMEOUT_MS = 180_000;
const SUPERVISOR_STOP_TIMEOUT_MS = 60_000;

interface Options {
  impl: Impl;
  nodes: 1 | 3;
  version: string;
  name: string;
  config: Record<string, string>;
  versionGiven: boolean;
  secure: boolean;
}

type SupervisorMessage = { type: 'ready'; state: BrokerState } | { type: 'failed'; message: string };

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      impl: { type: 'string', default: 'kafka' },
      nodes: { type: 'string', default: '1' },
      kafka: { type: 'string' },
      name: { type: 'string', default: 'default' },
      config: { type: 'string', multiple: true, default: [] },
      secure: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stderr.write(USAGE + '\n');
    return command === undefined && !values.help ? 2 : 0;
  }
  const options = parseOptions(values);

  switch (command) {
    case 'start':
      return start(options);
    case 'stop':
      return stop(options.name);
    case 'status':
      return status();
    case 'fetch':
      return fetch(options.versionGiven ? [options.version] : [...KAFKA_VERSIONS]);
    case SUPERVISOR_COMMAND:
      return supervise(options);
    default:
      process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

function parseOptions(values: { impl: string; nodes: string; kafka?: string; name: string; config: string[]; secure: boolean }): Options {
  if (!(IMPLS as readonly string[]).includes(values.impl)) throw new UsageError(`--impl must be one of ${IMPLS.join(', ')}, not ${values.impl}`);
  const impl = values.impl as Impl;
  if (impl !== 'kafka' && (values.kafka !== undefined || values.nodes !== '1' || values.config.length > 0 || values.secure)) {
    throw new UsageError(`--kafka, --nodes, --config and --secure apply to --impl kafka only`);
  }
  if (values.nodes !== '1' && values.nodes !== '3') throw new UsageError(`--nodes must be 1 or 3, not ${values.nodes}`);
  if (!/^[\w.-]+$/.test(values.name)) throw new UsageError(`--name may use letters, digits, '.', '_' and '-' only`);
  const config: Record<string, string> = {};
  for (const setting of values.config) {
    const eq = setting.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config expects key=value, not ${setting}`);
    config[setting.slice(0, eq)] = setting.slice(eq + 1);
  }
  return {
    impl,
    nodes: values.nodes === '3' ? 3 : 1,
    version: values.kafka ?? DEFAULT_KAFKA,
    versionGiven: values.kafka !== undefined,
    name: values.name,
    config,
    secure: values.secure,
  };
}

async function start(options: Options): Promise<number> {
  const existing: ImplState | undefined = await readState(options.name);
  if (existing && isOurProcess(existing.supervisorPid, SUPERVISOR_MARKER)) {
    const sameImpl = (existing.impl ?? 'kafka') === options.impl;
    if (!sameImpl || (options.impl === 'kafka' && (existing.version !== options.version || existing.nodes.length !== options.nodes))) {
      process.stderr.write(
        `broker "${options.name}" already runs ${describe(existing)} with ${existing.nodes.length} node(s); ` +
          `stop it first or pick another --name\n`,
      );
      return 1;
    }
    process.stdout.write(`${existing.bootstrap}\n`);
    process.stderr.write(`broker "${options.name}" was already running\n`);
    if (existing.security) process.stderr.write(securityText(existing.security));
    return 0;
  }
  if (existing) await cleanUpStale(existing);

  // Resolve jars (or build the binary) here, in the foreground, so Maven's, Go's or
  // cargo's progress and errors reach the user.
  if (options.impl === 'kafka') await ensureKafka(options.version);
  else if (options.impl === 'kfake') await ensureKfake();
  else await ensureTansu({ progress: process.stderr });

  await mkdir(BROKERS_DIR, { recursive: true });
  const logFile = supervisorLogFile(options.name);
  const log = openSync(logFile, 'a');
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    SUPERVISOR_COMMAND,
    ...['--impl', options.impl, '--name', options.name],
    ...(options.impl === 'kafka' ? ['--nodes', String(options.nodes), '--kafka', options.version] : []),
    ...Object.entries(options.config).flatMap(([key, value]) => ['--config', `${key}=${value}`]),
    ...(options.secure ? ['--secure'] : []),
  ];
  const supervisor = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
  });
  closeSync(log);

  const outcome = await new Promise<SupervisorMessage>((resolve) => {
    const timer = setTimeout(
      () => resolve({ type: 'failed', message: 'the supervisor did not report in time' }),
      SUPERVISOR_START_TIMEOUT_MS,
    );
    supervisor.once('message', (message: SupervisorMessage) => {
      clearTimeout(timer);
      resolve(message);
    });
    supervisor.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ type: 'failed', message: `the supervisor exited (${code ?? signal}) before the cluster was up` });
    });
  });

  if (outcome.type === 'failed') {
    if (supervisor.exitCode === null) supervisor.kill('SIGTERM');
    process.stderr.write(`could not start broker "${options.name}": ${outcome.message}\n`);
    process.stderr.write(`--- ${logFile}\n${tailFile(logFile, 60)}\n`);
    return 1;
  }

  if (supervisor.connected) supervisor.disconnect();
  supervisor.unref();
  const { state } = outcome;
  const nameOption = options.name === 'default' ? '' : ` --name ${options.name}`;
  process.stdout.write(`${state.bootstrap}\n`);
  process.stderr.write(
    `${describe(state)}, ${state.nodes.length} node(s), supervisor pid ${state.supervisorPid}\n` +
      `node logs: ${state.dir}\nstop with: npm run broker -- stop${nameOption}\n`,
  );
  if (state.security) process.stderr.write(securityText(state.security));
  return 0;
}

/** What a user needs to reach the secured listeners, as the producer's options name it. */
function securityText(security: NonNullable<BrokerState['security']>): string {
  const lines = ['secured listeners:'];
  for (const [name, address] of Object.entries(security.listeners)) lines.push(`  ${name.padEnd(15)} ${address}`);
  if (security.caFile) lines.push(`tls.ca: the file ${security.caFile}`);
  if (security.clientCertFile) lines.push(`client certificate (MTLS): ${security.clientCertFile}, key ${security.clientKeyFile}`);
  for (const u of security.users) lines.push(`user: ${u.name} / ${u.password} (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
  return `${lines.join('\n')}\n`;
}

/** Runs detached: owns the cluster until SIGTERM, SIGINT or SIGHUP. */
async function supervise(options: Options): Promise<number> {
  delegateSignalHandling();
  // Listening from the start: a signal during startup must not be lost.
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => resolve(signal));
  });
  const report = (message: SupervisorMessage): void => {
    if (process.connected) process.send?.(message);
  };
  const note = (text: string): void => void process.stderr.write(`[${new Date().toISOString()}] ${text}\n`);

  let running: { state: ImplState; stop(): Promise<void> };
  try {
    running = await startImpl(options, note);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    note(`start failed: ${message}`);
    report({ type: 'failed', message: message.split('\n')[0] ?? message });
    return 1;
  }

  const { state } = running;
  await writeState(state);
  note(`serving at ${state.bootstrap}; logs in ${state.dir}`);
  report({ type: 'ready', state });
  if (process.connected) process.disconnect();

  note(`${await stopRequested}: stopping the broker`);
  await running.stop();
  await removeState(options.name);
  note('stopped');
  return 0;
}

async function startImpl(
  options: Options,
  note: (text: string) => void,
): Promise<{ state: ImplState; stop(): Promise<void> }> {
  if (options.impl === 'kafka') {
    note(`starting Kafka ${options.version} with ${options.nodes} node(s)`);
    const { version, nodes, name, config, secure } = options;
    const cluster: KafkaCluster = await startCluster({ version, nodes, name, config, ...(secure ? { security: { sasl: true, ssl: true } } : {}) });
    return { state: { ...brokerState(options.name, cluster), impl: 'kafka' }, stop: () => cluster.stop() };
  }
  note(`starting ${options.impl}`);
  const broker = options.impl === 'kfake' ? await startKfake() : await startTansu();
  const version = options.impl === 'kfake' ? 'kfake' : `tansu ${TANSU_VERSION}`;
  const logFile = supervisorLogFile(options.name);
  const port = Number(broker.bootstrap.slice(broker.bootstrap.lastIndexOf(':') + 1));
  const state: ImplState = {
    name: options.name,
    impl: options.impl,
    version,
    bootstrap: broker.bootstrap,
    supervisorPid: process.pid,
    dir: logFile,
    supervisorLog: logFile,
    startedAt: new Date().toISOString(),
    nodes: [{ id: 0, port, controllerPort: 0, pid: broker.pid, logFile }],
  };
  return { state, stop: () => broker.stop() };
}

async function stop(name: string): Promise<number> {
  const state = await readState(name);
  if (!state) {
    process.stderr.write(`no broker named "${name}" is running\n`);
    return 0;
  }
  if (isOurProcess(state.supervisorPid, SUPERVISOR_MARKER)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + SUPERVISOR_STOP_TIMEOUT_MS;
    while (isOurProcess(state.supervisorPid, SUPERVISOR_MARKER) && Date.now() < deadline) await sleep(200);
  }
  await cleanUpStale(state);
  process.stderr.write(`stopped broker "${name}"\n`);
  return 0;
}

/** Kills whatever of a broker is still alive after its supervisor is gone or gave up. */
async function cleanUpStale(state: ImplState): Promise<void> {
  if (isOurProcess(state.supervisorPid, SUPERVISOR_MARKER)) process.kill(state.supervisorPid, 'SIGKILL');
  for (const node of state.nodes) {
    if (node.pid !== null && isOurProcess(node.pid, nodeMarker(state))) process.kill(node.pid, 'SIGKILL');
  }
  await removeState(state.name);
}

async function status(): Promise<number> {
  const states: ImplState[] = await allStates();
  if (states.length === 0) {
    process.stdout.write('no brokers running\n');
    return 0;
  }
  for (const state of states) {
    const supervisorUp = isOurProcess(state.supervisorPid, SUPERVISOR_MARKER);
    const nodesUp = state.nodes.filter((node) => isOurProcess(node.pid, nodeMarker(state))).length;
    const nodes = `${nodesUp}/${state.nodes.length} nodes up`;
    const health = supervisorUp ? nodes : `supervisor gone, ${nodes} (run stop to clean up)`;
    process.stdout.write(
      `${state.name}: ${describe(state)} at ${state.bootstrap} - ${health}, since ${state.startedAt}\n` +
        `  logs: ${state.dir}\n`,
    );
  }
  return 0;
}

async function fetch(versions: string[]): Promise<number> {
  for (const version of versions) {
    const started = Date.now();
    const dist = await ensureKafka(version);
    process.stdout.write(`${version}: ${dist.libsDir} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  return 0;
}

class UsageError extends Error {}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (error instanceof KafkaDistError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
