import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { startCluster, type KafkaCluster } from '../../scripts/kafka/cluster.js';
import { ensureKafka } from '../../scripts/kafka/dist.js';
import { currentRunDir } from '../../scripts/kafka/runs.js';
import { KAFKA_VERSIONS, newestVersion } from '../../scripts/kafka/versions.js';
import type { ProvidedCluster, ProvidedKafka } from './kafka-context.js';
import { lastRunOutcome } from './run-outcome.js';

/**
 * Starts the real Kafka clusters the broker tests run against, once per
 * vitest run, and hands test files their addresses through `provide`.
 *
 *   KAFKA_BOOTSTRAP=host:port       use that cluster instead of starting any
 *   KAFKA_TOOLS_VERSION=4.3.1       jars for Kafka's tools against it
 *   KAFKA_WIRE_VERSIONS=3.9.2,...   start only these releases
 *   KAFKA_WIRE_NO_3NODE=1           skip the 3-node cluster
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bootstrap = process.env['KAFKA_BOOTSTRAP'];
  if (bootstrap) {
    project.provide('kafka', await externalKafka(bootstrap));
    return async () => {};
  }

  const clusters = await startClusters();
  const runDir = await currentRunDir();
  project.provide('kafka', { clusters: clusters.map(describeCluster), runDir } satisfies ProvidedKafka);

  return async () => {
    await Promise.all(clusters.map((cluster) => cluster.stop()));
    if (lastRunOutcome() === 'passed') {
      await rm(runDir, { recursive: true, force: true });
    } else {
      console.log(`kafka-wire: broker logs kept in ${runDir}`);
    }
  };
}

interface ClusterPlan {
  version: string;
  nodes: 1 | 3;
}

function plannedClusters(): ClusterPlan[] {
  const versions = process.env['KAFKA_WIRE_VERSIONS']?.split(',').map((v) => v.trim()).filter(Boolean) ?? [
    ...KAFKA_VERSIONS,
  ];
  const plans: ClusterPlan[] = versions.map((version) => ({ version, nodes: 1 }));
  const newest = newestVersion(versions);
  if (newest !== undefined && process.env['KAFKA_WIRE_NO_3NODE'] !== '1') plans.push({ version: newest, nodes: 3 });
  return plans;
}

async function startClusters(): Promise<KafkaCluster[]> {
  const plans = plannedClusters();
  // Jars first, so a slow Maven download does not eat the clusters' start timeout.
  await Promise.all([...new Set(plans.map((plan) => plan.version))].map(ensureKafka));

  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const results = await Promise.allSettled(
    plans.map(async (plan) => {
      const cluster = await startCluster(plan);
      return { cluster, note: `${cluster.name} at ${cluster.bootstrap} (${elapsed()})` };
    }),
  );
  const clusters = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.cluster] : []));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) {
    await Promise.all(clusters.map((cluster) => cluster.stop()));
    throw new AggregateError(failures, `kafka-wire: ${failures.length} Kafka cluster(s) failed to start`);
  }

  const notes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.note] : []));
  console.log(`kafka-wire: started ${clusters.length} Kafka cluster(s) in ${elapsed()}: ${notes.join('; ')}`);
  return clusters;
}

function describeCluster(cluster: KafkaCluster): ProvidedCluster {
  return {
    name: cluster.name,
    version: cluster.version,
    toolsVersion: cluster.version,
    nodes: cluster.nodes.length,
    bootstrap: cluster.bootstrap,
    dir: cluster.dir,
    brokers: cluster.nodes.map((node) => ({
      id: node.id,
      host: node.host,
      port: node.port,
      controllerPort: node.controllerPort,
      dataDir: node.dataDir,
      logFile: node.logFile,
      pid: node.pid ?? null,
    })),
  };
}

async function externalKafka(bootstrap: string): Promise<ProvidedKafka> {
  const toolsVersion = process.env['KAFKA_TOOLS_VERSION'] || null;
  if (toolsVersion) await ensureKafka(toolsVersion);
  return {
    clusters: [
      {
        name: 'external',
        version: 'external',
        toolsVersion,
        nodes: bootstrap.split(',').filter(Boolean).length,
        bootstrap,
        dir: null,
        brokers: [],
      },
    ],
    runDir: null,
  };
}
