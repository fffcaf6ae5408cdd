/**
 * KafkaJS's partitioner contract and its built-in partitioners.
 *
 * `DefaultPartitioner` (KafkaJS 2's default, also exported as `JavaCompatiblePartitioner`)
 * hashes keys with Java's murmur2, which kafka-wire's own partitioner does bit for bit; the
 * producer recognises it and uses kafka-wire's built-in path (same partition for every
 * key; keyless records go sticky per batch, KIP-794, where KafkaJS round-robins them
 * per message). Called directly, it behaves as KafkaJS's does, round-robin included.
 *
 * `LegacyPartitioner` reproduces KafkaJS 1.x's partitioner, whose murmur2 does its
 * arithmetic in JavaScript doubles (so it differs from Java's for most keys) and reads
 * one block past the end of keys whose length is not a multiple of 4.
 */
import { randomBytes } from 'node:crypto';
import { murmur2 as javaMurmur2, toPositive } from '../producer/partitioners/index.js';

export interface PartitionMetadata {
  partitionErrorCode?: number;
  partitionId: number;
  leader: number;
  replicas?: number[];
  isr?: number[];
  offlineReplicas?: number[];
}

export interface PartitionerMessage {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  partition?: number | null;
  headers?: unknown;
  timestamp?: string;
}

export interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: PartitionerMessage;
}

export type DefaultPartitioner = (args: PartitionerArgs) => number;
export type ICustomPartitioner = () => (args: PartitionerArgs) => number;

function keyBytes(key: Buffer | string): Buffer {
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key));
}

/** KafkaJS 1.x's murmur2: Java's algorithm, but multiplied in doubles and reading up to ceil(length / 4) blocks. */
export function legacyMurmur2(key: Buffer | string): number {
  const data = keyBytes(key);
  const length = data.length;
  const M = 0x5bd1e995;
  const byteAt = (i: number): number => data[i] ?? 0;
  let h = 0x9747b28c ^ length;
  for (let i = 0; i < length / 4; i++) {
    const i4 = i * 4;
    let k = byteAt(i4) + (byteAt(i4 + 1) << 8) + (byteAt(i4 + 2) << 16) + (byteAt(i4 + 3) << 24);
    k *= M;
    k ^= k >>> 24;
    k *= M;
    h *= M;
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= byteAt(tail + 2) << 16;
  if (rest >= 2) h ^= byteAt(tail + 1) << 8;
  if (rest >= 1) {
    h ^= byteAt(tail);
    h *= M;
  }
  h ^= h >>> 13;
  h *= M;
  h ^= h >>> 15;
  return h;
}

/** KafkaJS's partitioning policy around a hash: explicit partition, then the key's hash, then round-robin over partitions with a leader. */
function partitionerWith(hash: (key: Buffer | string) => number): ICustomPartitioner {
  return () => {
    const counters = new Map<string, number>();
    // Per topic, a counter from a random start; it moves only for records it places.
    const next = (topic: string): number => {
      const count = (counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1;
      counters.set(topic, count);
      return toPositive(count);
    };
    return ({ topic, partitionMetadata, message }) => {
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      if (message.key !== null && message.key !== undefined) return toPositive(hash(message.key)) % partitionMetadata.length;
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      if (available.length > 0) return available[next(topic) % available.length]!.partitionId;
      return next(topic) % partitionMetadata.length;
    };
  };
}

const javaHash = (key: Buffer | string): number => javaMurmur2(keyBytes(key));

export const Partitioners: {
  DefaultPartitioner: ICustomPartitioner;
  JavaCompatiblePartitioner: ICustomPartitioner;
  LegacyPartitioner: ICustomPartitioner;
} = (() => {
  const DefaultPartitioner = partitionerWith(javaHash);
  return { DefaultPartitioner, JavaCompatiblePartitioner: DefaultPartitioner, LegacyPartitioner: partitionerWith(legacyMurmur2) };
})();
