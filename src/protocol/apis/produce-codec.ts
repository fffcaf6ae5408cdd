/**
 * Produce's request writer and response reader spelled out for their one shape: the hot
 * path of a producer, which writes and reads one partition entry per batch. The
 * schema-driven codec spent about half a microsecond on each entry (a call through a
 * different codec object per field, a filtered list of tagged fields per struct); at a
 * thousand partitions a request that was most of a millisecond each way.
 *
 * The definition stays the schema in produce.ts. These must write the bytes and read the
 * values its generic codec does, at every version, for any input, errors included
 * (test/protocol/produce-codec.test.ts, and generated-equivalence.test.ts against Kafka's
 * own definitions). What is not hot goes to the generic codec: reading a request,
 * writing a response, and any read asked for a trace (the decode tool).
 */
import { ProtocolError } from '../../errors.js';
import { readTaggedSection, type Codec } from '../codec.js';
import type { Reader } from '../reader.js';
import {
  sizeOfCompactNullableBytes,
  sizeOfCompactNullableString,
  sizeOfCompactString,
  sizeOfNullableBytes,
  sizeOfNullableString,
  sizeOfString,
  sizeOfUvarint,
} from '../sizes.js';
import type { Writer } from '../writer.js';

/** The version that brought each part of the layout (see produce.ts). */
const FLEXIBLE_FROM = 9;
const TOPIC_ID_FROM = 13;
const LOG_START_OFFSET_FROM = 5;
const RECORD_ERRORS_FROM = 8;
const LEADER_HINTS_FROM = 10;

/** The schema's defaults, for fields a version does not have or a body leaves out. */
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const NO_RECORDS = Buffer.alloc(0);
const NO_LEADER: Readonly<CurrentLeader> = Object.freeze({ leaderId: -1, leaderEpoch: -1 });
const NONE: readonly never[] = Object.freeze([]);
/** Tag 0 in a partition response (currentLeader) and in the response (nodeEndpoints), v10+. */
const LEADER_HINT_TAG = 0;

interface PartitionData {
  index?: number;
  records?: Uint8Array | null;
}

interface TopicData {
  name?: string;
  topicId?: string;
  partitionData?: PartitionData[] | null;
}

interface ProduceRequestBody {
  transactionalId?: string | null;
  acks?: number;
  timeoutMs?: number;
  topicData?: TopicData[] | null;
}

interface CurrentLeader {
  leaderId: number;
  leaderEpoch: number;
}

interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string | null;
}

interface PartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  recordErrors: readonly RecordError[];
  errorMessage: string | null;
  currentLeader: CurrentLeader;
}

interface TopicResponse {
  name: string;
  topicId: string;
  partitionResponses: PartitionResponse[];
}

interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

interface ProduceResponseBody {
  responses: TopicResponse[];
  throttleTimeMs: number;
  nodeEndpoints: readonly NodeEndpoint[];
}

/** A field's value, or the schema's default when the body leaves it out (only then: null stays null). */
function orDefault<V, D>(value: V | undefined, dflt: D): V | D {
  return value === undefined ? dflt : value;
}

/** The request codec of `version`: size and write by hand, read by the schema's `generic` codec. */
export function produceRequestCodec<T>(version: number, generic: Codec<T>): Codec<T> {
  const flexible = version >= FLEXIBLE_FROM;
  const byTopicId = version >= TOPIC_ID_FROM;
  // An array's count: -1 for null (which the schema writes for a null even where not nullable).
  const countSize = (items: readonly unknown[] | null): number => (flexible ? sizeOfUvarint((items === null ? -1 : items.length) + 1) : 4);
  const writeCount = (w: Writer, items: readonly unknown[] | null): void => {
    const n = items === null ? -1 : items.length;
    if (flexible) w.uvarint(n + 1);
    else w.int32(n);
  };

  const size = (body: ProduceRequestBody): number => {
    const transactionalId = orDefault(body.transactionalId, null);
    const topics = orDefault(body.topicData, NONE);
    // transactional_id, acks, timeout_ms, topic_data count
    let n = (flexible ? sizeOfCompactNullableString(transactionalId) : sizeOfNullableString(transactionalId)) + 2 + 4 + countSize(topics);
    for (const topic of topics ?? NONE) {
      const partitions = orDefault(topic.partitionData, NONE);
      n += byTopicId ? 16 : flexible ? sizeOfCompactString(orDefault(topic.name, '')) : sizeOfString(orDefault(topic.name, ''));
      n += countSize(partitions);
      for (const partition of partitions ?? NONE) {
        const records = orDefault(partition.records, NO_RECORDS);
        // index, records, and in flexible versions an empty tagged-field section
        n += 4 + (flexible ? sizeOfCompactNullableBytes(records) + 1 : sizeOfNullableBytes(records));
      }
      if (flexible) n += 1;
    }
    if (flexible) n += 1;
    return n;
  };

  const write = (w: Writer, body: ProduceRequestBody): void => {
    const transactionalId = orDefault(body.transactionalId, null);
    if (flexible) w.compactNullableString(transactionalId);
    else w.nullableString(transactionalId);
    w.int16(orDefault(body.acks, 0));
    w.int32(orDefault(body.timeoutMs, 0));
    const topics = orDefault(body.topicData, NONE);
    writeCount(w, topics);
    for (const topic of topics ?? NONE) {
      if (byTopicId) w.uuid(orDefault(topic.topicId, ZERO_UUID));
      else if (flexible) w.compactString(orDefault(topic.name, ''));
      else w.string(orDefault(topic.name, ''));
      const partitions = orDefault(topic.partitionData, NONE);
      writeCount(w, partitions);
      for (const partition of partitions ?? NONE) {
        w.int32(orDefault(partition.index, 0));
        const records = orDefault(partition.records, NO_RECORDS);
        if (flexible) {
          w.compactNullableBytes(records);
          w.uvarint(0);
        } else {
          w.nullableBytes(records);
        }
      }
      if (flexible) w.uvarint(0);
    }
    if (flexible) w.uvarint(0);
  };

  return {
    minSize: generic.minSize,
    typeName: generic.typeName,
    size: size as (body: T) => number,
    write: write as (w: Writer, body: T) => void,
    read: (r, trace) => generic.read(r, trace),
  };
}

/** The response codec of `version`: read by hand (unless traced), size and write by the schema's `generic` codec. */
export function produceResponseCodec<T>(version: number, generic: Codec<T>): Codec<T> {
  const flexible = version >= FLEXIBLE_FROM;
  const byTopicId = version >= TOPIC_ID_FROM;
  const hasLogStartOffset = version >= LOG_START_OFFSET_FROM;
  const hasRecordErrors = version >= RECORD_ERRORS_FROM;
  const hasLeaderHints = version >= LEADER_HINTS_FROM;
  // The fewest bytes an element can take, as the generic codec bounds array counts.
  const tags = flexible ? 1 : 0;
  const countMin = flexible ? 1 : 4;
  const stringMin = flexible ? 1 : 2;
  const recordErrorMin = 4 + stringMin + tags;
  const partitionMin = 4 + 2 + 8 + 8 + (hasLogStartOffset ? 8 : 0) + (hasRecordErrors ? countMin + stringMin : 0) + tags;
  const topicMin = (byTopicId ? 16 : stringMin) + countMin + tags;
  const nodeEndpointMin = 4 + 1 + 4 + 1 + 1;

  const count = (r: Reader, minSize: number): number => {
    const at = r.offset;
    const n = r.arrayLength(flexible, minSize);
    if (n === -1) throw new ProtocolError(`null array at offset ${at} where the field is not nullable`, { offset: at });
    return n;
  };
  /** A tagged-field section none of whose tags this reader keeps. */
  const skipTags = (r: Reader): void => {
    if (r.offset < r.end && r.buf[r.offset] === 0) r.offset++;
    else readTaggedSection(r, undefined);
  };

  const readRecordErrors = (r: Reader): RecordError[] => {
    const errors = new Array<RecordError>(count(r, recordErrorMin));
    for (let i = 0; i < errors.length; i++) {
      const batchIndex = r.int32();
      const batchIndexErrorMessage = flexible ? r.compactNullableString() : r.nullableString();
      if (flexible) skipTags(r);
      errors[i] = { batchIndex, batchIndexErrorMessage };
    }
    return errors;
  };

  const readLeader = (body: Reader): CurrentLeader => {
    const leader = { leaderId: body.int32(), leaderEpoch: body.int32() };
    skipTags(body);
    return leader;
  };

  const readPartition = (r: Reader): PartitionResponse => {
    const index = r.int32();
    const errorCode = r.int16();
    const baseOffset = r.int64();
    const logAppendTimeMs = r.int64();
    const logStartOffset = hasLogStartOffset ? r.int64() : -1n;
    const recordErrors = hasRecordErrors ? readRecordErrors(r) : NONE;
    const errorMessage = hasRecordErrors ? (flexible ? r.compactNullableString() : r.nullableString()) : null;
    let currentLeader = NO_LEADER;
    if (flexible) {
      if (r.offset < r.end && r.buf[r.offset] === 0) r.offset++;
      else {
        readTaggedSection(r, (tag, body) => {
          if (hasLeaderHints && tag === LEADER_HINT_TAG) currentLeader = readLeader(body);
        });
      }
    }
    return { index, errorCode, baseOffset, logAppendTimeMs, logStartOffset, recordErrors, errorMessage, currentLeader };
  };

  const readNodeEndpoints = (body: Reader): NodeEndpoint[] => {
    const endpoints = new Array<NodeEndpoint>(count(body, nodeEndpointMin));
    for (let i = 0; i < endpoints.length; i++) {
      const nodeId = body.int32();
      const host = body.compactString();
      const port = body.int32();
      const rack = body.compactNullableString();
      skipTags(body);
      endpoints[i] = { nodeId, host, port, rack };
    }
    return endpoints;
  };

  const read = (r: Reader): ProduceResponseBody => {
    const responses = new Array<TopicResponse>(count(r, topicMin));
    for (let i = 0; i < responses.length; i++) {
      const name = byTopicId ? '' : flexible ? r.compactString() : r.string();
      const topicId = byTopicId ? r.uuid() : ZERO_UUID;
      const partitionResponses = new Array<PartitionResponse>(count(r, partitionMin));
      for (let j = 0; j < partitionResponses.length; j++) partitionResponses[j] = readPartition(r);
      if (flexible) skipTags(r);
      // In the order the schema's codec gives (a field the version lacks comes last), so that
      // even JSON.stringify of an answer does not tell the two apart.
      responses[i] = byTopicId ? { topicId, partitionResponses, name } : { name, partitionResponses, topicId };
    }
    const throttleTimeMs = r.int32();
    let nodeEndpoints: readonly NodeEndpoint[] = NONE;
    if (flexible) {
      readTaggedSection(r, (tag, body) => {
        if (hasLeaderHints && tag === LEADER_HINT_TAG) nodeEndpoints = readNodeEndpoints(body);
      });
    }
    return { responses, throttleTimeMs, nodeEndpoints };
  };

  return {
    minSize: generic.minSize,
    typeName: generic.typeName,
    size: (body) => generic.size(body),
    write: (w, body) => generic.write(w, body),
    read: (r, trace) => (trace ? generic.read(r, trace) : (read(r) as T)),
  };
}
