/** Typed access to java-vectors.json, written by scripts/gen/partition-vectors.ts with Kafka's own code. */
import { readFileSync } from 'node:fs';

export interface KeyVector {
  readonly name: string;
  /** Set for keys that are a string's UTF-8 bytes (what Java's StringSerializer sends). */
  readonly text?: string;
  readonly hex: string;
  /** Java's Utils.murmur2: a signed int. */
  readonly murmur2: number;
  readonly positive: number;
  /** BuiltInPartitioner.partitionForKey for each of `partitionCounts`, in order. */
  readonly partitions: readonly number[];
}

export interface StickyVector {
  readonly name: string;
  readonly partitionCount: number;
  readonly available: readonly number[];
  /** Indexed by partition id; null when Java ran without adaptive load stats. */
  readonly queueSizes: readonly number[] | null;
  /** [random draw, partition Java's BuiltInPartitioner switched to]. */
  readonly draws: ReadonlyArray<readonly [number, number]>;
}

export interface JavaVectors {
  readonly kafkaVersion: string;
  readonly partitionCounts: readonly number[];
  readonly keys: readonly KeyVector[];
  readonly sticky: readonly StickyVector[];
}

export const javaVectors = JSON.parse(readFileSync(new URL('./java-vectors.json', import.meta.url), 'utf8')) as JavaVectors;
