/** Kafka releases the harness knows how to run, newest first. */
export const KAFKA_VERSIONS = ['4.3.1', '3.9.2'] as const;

export type KnownKafkaVersion = (typeof KAFKA_VERSIONS)[number];

export const LATEST_KAFKA: KnownKafkaVersion = KAFKA_VERSIONS[0];
export const DEFAULT_KAFKA: KnownKafkaVersion = LATEST_KAFKA;

export function majorVersion(version: string): number {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (!Number.isFinite(major)) throw new Error(`Not a Kafka version: ${version}`);
  return major;
}

/** Numeric, dot-wise comparison; enough for plain release numbers like 3.9.2. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function newestVersion(versions: readonly string[]): string | undefined {
  return [...versions].sort(compareVersions).at(-1);
}
