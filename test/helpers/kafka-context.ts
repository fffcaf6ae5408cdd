/**
 * The JSON that test/helpers/global-setup.ts provides to test files under the
 * key 'kafka'. Kept free of runtime imports so both the vitest main process
 * (global setup) and the test workers can use it.
 */

export interface ProvidedBroker {
  id: number;
  host: string;
  port: number;
  controllerPort: number;
  /** Holds `<topic>-<partition>` folders with the segment files. */
  dataDir: string;
  logFile: string;
  pid: number | null;
}

export interface ProvidedCluster {
  /** e.g. kafka-4.3.1, kafka-4.3.1-3n, or external. */
  name: string;
  /** The Kafka release, or 'external' for a cluster given by KAFKA_BOOTSTRAP. */
  version: string;
  /** Release whose jars the Kafka tools run from; null when tools are unavailable. */
  toolsVersion: string | null;
  /** Number of nodes; for an external cluster, the number of bootstrap addresses. */
  nodes: number;
  bootstrap: string;
  /** The cluster's folder under .cache/runs; null for an external cluster. */
  dir: string | null;
  /** Empty for an external cluster. */
  brokers: ProvidedBroker[];
}

export interface ProvidedKafka {
  clusters: ProvidedCluster[];
  /** Where the node logs of this run are; null for an external cluster. */
  runDir: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: ProvidedKafka;
  }
}
