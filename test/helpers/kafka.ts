import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import * as tools from '../../scripts/kafka/tools.js';
import type { ProvidedCluster } from './kafka-context.js';

export type { ProvidedBroker, ProvidedCluster, ProvidedKafka } from './kafka-context.js';
export type {
  ConsoleConsumeOptions,
  ConsoleConsumeResult,
  CreateTopicOptions,
  DumpedBatch,
  DumpLogSegmentsOptions,
  DumpLogSegmentsResult,
  ToolResult,
  ToolRunOptions,
  TopicDescription,
} from '../../scripts/kafka/tools.js';

/**
 * What test files import to reach the clusters started by global-setup.ts.
 * The clusters are shared by every test file, and up to two files run at
 * once: give each test its own topic (see `uniqueTopic`).
 */

export function clusters(): ProvidedCluster[] {
  const kafka = inject('kafka');
  if (!kafka) throw new Error('No Kafka clusters provided: is this file in the "kafka" project of vitest.config.ts?');
  return kafka.clusters;
}

export function singleNodeClusters(): ProvidedCluster[] {
  return clusters().filter((cluster) => cluster.nodes === 1);
}

/** Undefined when the run has none (KAFKA_WIRE_NO_3NODE=1, or an external cluster). */
export function threeNodeCluster(): ProvidedCluster | undefined {
  return clusters().find((cluster) => cluster.nodes === 3);
}

export function clusterNamed(name: string): ProvidedCluster {
  const found = clusters().find((cluster) => cluster.name === name);
  if (!found) throw new Error(`No Kafka cluster named ${name}; have ${clusters().map((c) => c.name).join(', ')}`);
  return found;
}

/** A topic name no other test or earlier run uses. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Kafka's own tools, bound to one provided cluster. */
export interface ClusterTools {
  readonly target: tools.ToolTarget;
  topics(args: readonly string[], options?: tools.ToolRunOptions): Promise<tools.ToolResult>;
  createTopic(name: string, options?: tools.CreateTopicOptions): Promise<void>;
  describeTopic(name: string): Promise<tools.TopicDescription>;
  configs(args: readonly string[], options?: tools.ToolRunOptions): Promise<tools.ToolResult>;
  setClientQuotas(clientId: string, quotas: Record<string, number>): Promise<void>;
  consoleConsume(options: tools.ConsoleConsumeOptions): Promise<tools.ConsoleConsumeResult>;
  producerPerformance(args: readonly string[], options?: tools.ToolRunOptions): Promise<tools.ToolResult>;
  dumpLogSegments(files: readonly string[], options?: tools.DumpLogSegmentsOptions): Promise<tools.DumpLogSegmentsResult>;
  /** Segment files of a partition on one broker; [] if it has no replica there. */
  segmentFiles(brokerId: number, topic: string, partition: number): Promise<string[]>;
}

/** Whether Kafka's tools can run against this cluster (not for an external one without KAFKA_TOOLS_VERSION). */
export function hasTools(cluster: ProvidedCluster): boolean {
  return cluster.toolsVersion !== null;
}

export function kafkaTools(cluster: ProvidedCluster): ClusterTools {
  if (cluster.toolsVersion === null) {
    throw new Error(`No Kafka tools for ${cluster.name}: set KAFKA_TOOLS_VERSION to a release to use its jars`);
  }
  const target: tools.ToolTarget = { version: cluster.toolsVersion, bootstrap: cluster.bootstrap };
  return {
    target,
    topics: (args, options) => tools.topics(target, args, options),
    createTopic: (name, options) => tools.createTopic(target, name, options),
    describeTopic: (name) => tools.describeTopic(target, name),
    configs: (args, options) => tools.configs(target, args, options),
    setClientQuotas: (clientId, quotas) => tools.setClientQuotas(target, clientId, quotas),
    consoleConsume: (options) => tools.consoleConsume(target, options),
    producerPerformance: (args, options) => tools.producerPerformance(target, args, options),
    dumpLogSegments: (files, options) => tools.dumpLogSegments(target, files, options),
    segmentFiles: (brokerId, topic, partition) => {
      const broker = cluster.brokers.find((candidate) => candidate.id === brokerId);
      if (!broker) throw new Error(`${cluster.name} has no local broker ${brokerId}`);
      return tools.segmentFiles(broker.dataDir, topic, partition);
    },
  };
}
