/** Parsers for the human-oriented text that Kafka's command-line tools print. */

export interface TopicPartitionDescription {
  partition: number;
  /** -1 when the partition has no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface TopicDescription {
  name: string;
  topicId: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: TopicPartitionDescription[];
}

/**
 * Reads `TopicCommand --describe` output: a tab-separated `Key: value` line
 * per topic, followed by an indented one per partition.
 */
export function parseTopicDescriptions(stdout: string): TopicDescription[] {
  const topics: TopicDescription[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const fields = tabFields(line);
    if (fields['Partition'] !== undefined) {
      const topic = topics.at(-1);
      if (!topic) throw new Error(`Partition line before any topic line: ${line}`);
      topic.partitions.push({
        partition: Number(fields['Partition']),
        leader: parseLeader(fields['Leader']),
        replicas: brokerList(fields['Replicas']),
        isr: brokerList(fields['Isr']),
      });
    } else if (fields['Topic'] !== undefined && fields['PartitionCount'] !== undefined) {
      topics.push({
        name: fields['Topic'],
        topicId: fields['TopicId'] ?? '',
        partitionCount: Number(fields['PartitionCount']),
        replicationFactor: Number(fields['ReplicationFactor']),
        configs: parseConfigs(fields['Configs'] ?? ''),
        partitions: [],
      });
    }
  }
  return topics;
}

function tabFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of line.split('\t')) {
    const colon = part.indexOf(':');
    if (colon > 0) fields[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  return fields;
}

function parseLeader(value: string | undefined): number {
  const leader = Number(value);
  return value === undefined || value === 'none' || !Number.isInteger(leader) ? -1 : leader;
}

function brokerList(value: string | undefined): number[] {
  return (value ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '')
    .map(Number);
}

function parseConfigs(value: string): Record<string, string> {
  const configs: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) configs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return configs;
}

export interface DumpedBatch {
  /** baseOffset, lastOffset, count, producerId, isTransactional, compresscodec, ... as printed. */
  fields: Record<string, string>;
  /** One per record, present with --deep-iteration: offset, keySize, key, payload, ... */
  records: Record<string, string>[];
}

/**
 * Reads `DumpLogSegments` output, which prints `key: value` pairs separated by
 * single spaces. `payload` is always the last field and may hold anything, so
 * it takes the rest of the line; a record key that itself contains `word: `
 * would be split wrongly, which test data can easily avoid.
 */
export function parseDumpedBatches(stdout: string): DumpedBatch[] {
  const batches: DumpedBatch[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('baseOffset:')) {
      batches.push({ fields: spaceFields(line), records: [] });
    } else if (line.startsWith('| ')) {
      batches.at(-1)?.records.push(spaceFields(line.slice(2)));
    }
  }
  return batches;
}

function spaceFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const keyPattern = /(?:^|\s)([A-Za-z][A-Za-z0-9]*): ?/g;
  const keys = [...line.matchAll(keyPattern)];
  for (let i = 0; i < keys.length; i++) {
    const match = keys[i];
    const key = match?.[1];
    if (match === undefined || key === undefined) continue;
    const start = match.index + match[0].length;
    if (key === 'payload') {
      fields[key] = line.slice(start);
      break;
    }
    const end = keys[i + 1]?.index ?? line.length;
    fields[key] = line.slice(start, end).trim();
  }
  return fields;
}
