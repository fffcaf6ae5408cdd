import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureKafka, type KafkaDist } from './dist.js';
import { brokerLoggingConfig } from './logging.js';
import { NodeProcess, type KafkaNode } from './node-process.js';
import { LOOPBACK, freePorts } from './ports.js';
import { clusterDir } from './runs.js';
import { listenerConfig, planSecurity, securedListeners, type ClusterSecurity, type ClusterSecurityOptions, type ListenerPort, type SecurityPlan } from './security.js';
import { serverConfig, toPropertiesText, type NodeAddress } from './server-config.js';
import { runKafkaTool, topics } from './tools.js';

export type { KafkaNode } from './node-process.js';
export type { ClusterSecurity, ClusterSecurityOptions, SecuredListener, SecurityUser } from './security.js';

export interface StartClusterOptions {
  version: string;
  nodes?: 1 | 3;
  /** Broker settings; they override the harness defaults. */
  config?: Record<string, string>;
  /** Folder name under the run folder; defaults to kafka-<version>[-3n]. */
  name?: string;
  /** `--feature name=level` for `kafka-storage format`, e.g. `{ 'transaction.version': 2 }`. */
  features?: Record<string, number>;
  /** Default 90 s, counted from when the jars are available. */
  startTimeoutMs?: number;
  /** SASL / SSL / OAUTHBEARER listeners beside PLAINTEXT (see security.ts). */
  security?: ClusterSecurityOptions;
}

export interface KafkaCluster {
  readonly name: string;
  readonly version: string;
  readonly clusterId: string;
  /** `127.0.0.1:p1,127.0.0.1:p2,...` */
  readonly bootstrap: string;
  readonly nodes: readonly KafkaNode[];
  /** This cluster's folder: one sub-folder per node. */
  readonly dir: string;
  /** Secured listeners, users and certificates; undefined unless `security` was given. */
  readonly security: ClusterSecurity | undefined;
  readonly dist: KafkaDist;
  /** Stops every node and deletes their data; node logs stay. */
  stop(): Promise<void>;
  /** SIGKILL: no controlled shutdown, as in a crash. */
  killNode(id: number): Promise<void>;
  /** SIGTERM, SIGKILL after 20 s. */
  stopNode(id: number): Promise<void>;
  /** Starts a stopped node again on the same ports and data, and waits until it serves. */
  startNode(id: number): Promise<void>;
  /** SIGSTOP: the node hangs with its sockets open, as in a long GC pause. */
  pauseNode(id: number): void;
  resumeNode(id: number): void;
  /** The tail of every node's log, for error messages. */
  logs(): string;
}

const DEFAULT_START_TIMEOUT_MS = 90_000;
const RESTART_TIMEOUT_MS = 90_000;

/** Port choices tried before giving up on a cluster whose ports another process took first. */
const PORT_ATTEMPTS = 3;

/**
 * Starts a KRaft cluster of combined broker+controller nodes on loopback
 * ports and resolves once Kafka's own TopicCommand can list topics on it.
 *
 * Ports are found free, then bound by the JVM a few seconds later; in between another
 * process (a parallel test file's cluster or proxy) may take one. Such a start is retried
 * on fresh ports.
 */
export async function startCluster(options: StartClusterOptions): Promise<KafkaCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startClusterOnce(options: StartClusterOptions): Promise<KafkaCluster> {
  const nodeCount = options.nodes ?? 1;
  const dist = await ensureKafka(options.version);
  const deadline = Date.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);

  const name = options.name ?? `kafka-${options.version}${nodeCount === 1 ? '' : `-${nodeCount}n`}`;
  const dir = await clusterDir(name);
  const secured = securedListeners(options.security);
  const perNode = 2 + secured.length;
  const ports = await freePorts(nodeCount * perNode);
  const addresses: NodeAddress[] = Array.from({ length: nodeCount }, (_, i) => ({
    id: i + 1,
    port: ports[perNode * i] ?? 0,
    controllerPort: ports[perNode * i + 1] ?? 0,
  }));
  const securedPorts = (i: number): ListenerPort[] => secured.map((listener, j) => ({ name: listener, port: ports[perNode * i + 2 + j] ?? 0 }));
  const plan = options.security ? await planSecurity(options.security, dir) : undefined;
  const clusterId = randomClusterId();

  const processes = await Promise.all(
    addresses.map((address, i) => prepareNode({ dist, dir, address, addresses, clusterId, options, plan, secured: securedPorts(i) })),
  );
  const security: ClusterSecurity | undefined = plan && {
    listeners: Object.fromEntries(secured.map((listener, j) => [listener, addresses.map((_, i) => `${LOOPBACK}:${securedPorts(i)[j]!.port}`).join(',')])),
    certificates: plan.certificates,
    users: plan.users,
    mechanisms: plan.mechanisms,
  };
  const cluster = new LocalCluster(name, options.version, clusterId, dir, dist, processes, security);

  try {
    for (const node of processes) node.start();
    await Promise.all(processes.map((node) => node.waitUntilServing(deadline)));
    await topics(cluster, ['--list'], { timeoutMs: Math.max(deadline - Date.now(), 15_000) });
  } catch (error) {
    const logs = cluster.logs();
    await cluster.stop();
    const portTaken = processes.some((node) => existsSync(node.info.logFile) && readFileSync(node.info.logFile, 'utf8').includes('Address already in use'));
    const Failure = portTaken ? PortTakenError : Error;
    throw new Failure(`Kafka ${options.version} cluster "${name}" did not start: ${errorMessage(error)}\n${logs}`, {
      cause: error,
    });
  }
  return cluster;
}

interface PrepareNodeInput {
  dist: KafkaDist;
  dir: string;
  address: NodeAddress;
  addresses: NodeAddress[];
  clusterId: string;
  options: StartClusterOptions;
  plan: SecurityPlan | undefined;
  secured: ListenerPort[];
}

/** Writes a node's config files and formats its storage with the cluster id. */
async function prepareNode(input: PrepareNodeInput): Promise<NodeProcess> {
  const { dist, address } = input;
  const nodeDir = path.join(input.dir, `node-${address.id}`);
  const info: KafkaNode = {
    id: address.id,
    host: LOOPBACK,
    port: address.port,
    controllerPort: address.controllerPort,
    dir: nodeDir,
    logFile: path.join(nodeDir, 'server.log'),
    stdoutFile: path.join(nodeDir, 'jvm-output.log'),
    dataDir: path.join(nodeDir, 'data'),
    pid: undefined,
    alive: false,
  };
  await mkdir(info.dataDir, { recursive: true });

  const propertiesFile = path.join(nodeDir, 'server.properties');
  const loggingConfigFile = path.join(nodeDir, dist.logging === 'log4j2' ? 'log4j2.properties' : 'log4j.properties');
  const config = serverConfig({
    version: dist.version,
    node: address,
    allNodes: input.addresses,
    dataDir: info.dataDir,
    overrides: input.plan
      ? { ...input.plan.config, ...listenerConfig(address.port, address.controllerPort, input.secured), ...input.options.config }
      : input.options.config,
  });
  await writeFile(propertiesFile, toPropertiesText(config));
  await writeFile(loggingConfigFile, brokerLoggingConfig(dist.logging, info.logFile));

  const featureArgs = Object.entries(input.options.features ?? {}).flatMap(([feature, level]) => [
    '--feature',
    `${feature}=${level}`,
  ]);
  await runKafkaTool(dist.version, 'storageTool', [
    'format',
    '--cluster-id',
    input.clusterId,
    '--config',
    propertiesFile,
    '--ignore-formatted',
    ...featureArgs,
    ...(input.plan?.formatArgs ?? []),
  ]);

  return new NodeProcess(info, dist, { propertiesFile, loggingConfigFile });
}

class LocalCluster implements KafkaCluster {
  readonly nodes: readonly KafkaNode[];
  readonly bootstrap: string;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly version: string,
    readonly clusterId: string,
    readonly dir: string,
    readonly dist: KafkaDist,
    private readonly processes: readonly NodeProcess[],
    readonly security: ClusterSecurity | undefined = undefined,
  ) {
    this.nodes = processes.map((node) => node.info);
    this.bootstrap = this.nodes.map((node) => `${node.host}:${node.port}`).join(',');
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.processes.map((node) => node.stop()));
      await Promise.all(this.nodes.map((node) => rm(node.dataDir, { recursive: true, force: true })));
    })();
    return this.stopping;
  }

  killNode(id: number): Promise<void> {
    return this.process(id).kill();
  }

  stopNode(id: number): Promise<void> {
    return this.process(id).stop();
  }

  async startNode(id: number): Promise<void> {
    if (this.stopping) throw new Error(`Cluster ${this.name} was stopped; its data is gone`);
    const node = this.process(id);
    node.start();
    try {
      await node.waitUntilServing(Date.now() + RESTART_TIMEOUT_MS);
    } catch (error) {
      throw new Error(`Restarting node ${id} of ${this.name} failed: ${errorMessage(error)}\n${node.logTail()}`, {
        cause: error,
      });
    }
  }

  pauseNode(id: number): void {
    this.process(id).pause();
  }

  resumeNode(id: number): void {
    this.process(id).resume();
  }

  logs(): string {
    return this.processes.map((node) => node.logTail()).join('\n');
  }

  private process(id: number): NodeProcess {
    const node = this.processes.find((candidate) => candidate.info.id === id);
    if (!node) throw new Error(`Cluster ${this.name} has no node ${id}`);
    return node;
  }
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64 without padding.
 * Kafka's own generator avoids a leading '-' because command-line parsers
 * would take the id for an option; so do we.
 */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
