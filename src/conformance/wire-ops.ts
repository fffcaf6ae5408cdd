/**
 * The Produce and Fetch requests checks send: to a partition's leader, recorded for the
 * report, with the raw bytes of each fetched batch kept (to compare byte for byte).
 */
import { ProtocolError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { Fetch, Produce } from '../protocol/apis/index.js';
import type { ResponseOf } from '../protocol/api.js';
import { decompress } from '../protocol/compression/index.js';
import { decodeRecordBatches, type RecordBatch } from '../protocol/records/index.js';
import { sleep } from './admin.js';
import { CheckFailure } from './failure.js';
import type { CreatedTopic, Session } from './session.js';

export type PartitionAnswer = ResponseOf<typeof Produce>['responses'][number]['partitionResponses'][number];

export interface ProduceOptions {
  version?: number;
  acks?: number;
  transactionalId?: string | null;
  /** Where to send it; the partition's leader by default. */
  connection?: BrokerConnection;
}

/** One batch to one partition; the partition's answer, or null with acks=0. */
export async function produceBatch(session: Session, topic: CreatedTopic, partition: number, batch: Buffer, opts: ProduceOptions = {}): Promise<PartitionAnswer | null> {
  const conn = opts.connection ?? (await session.leader(topic, partition));
  const version = opts.version ?? conn.requireVersion(Produce);
  const acks = opts.acks ?? -1;
  const body = {
    transactionalId: opts.transactionalId ?? null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic.name, topicId: topic.topicId, partitionData: [{ index: partition, records: batch }] }],
  };
  if (acks === 0) {
    await session.call(conn, Produce, version, body, { expectResponse: false });
    return null;
  }
  const response = await session.call(conn, Produce, version, body);
  const answer = response.responses[0]?.partitionResponses[0];
  if (!answer) throw new CheckFailure(`Produce v${version}: no answer for ${topic.name}-${partition}`);
  return answer;
}

export interface Fetched {
  batches: RecordBatch[];
  /** Each batch's bytes as the broker sent them. */
  raw: Buffer[];
}

/**
 * Fetches from `fromOffset` until `records` records are there (they may still be on their
 * way after acks=0), or `timeoutMs` passes. CRCs are checked: a bad one throws.
 */
export async function fetchRecords(
  session: Session,
  topic: CreatedTopic,
  partition: number,
  opts: { fromOffset?: bigint; records: number; isolation?: 0 | 1; timeoutMs?: number },
): Promise<Fetched> {
  const conn = await session.leader(topic, partition);
  const version = conn.requireVersion(Fetch, topic.topicId ? Fetch.maxVersion : 12);
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const out: Fetched = { batches: [], raw: [] };
  let offset = opts.fromOffset ?? 0n;
  let count = 0;
  while (count < opts.records) {
    if (Date.now() > deadline) throw new CheckFailure(`Fetch v${version}: ${count} of ${opts.records} records after ${opts.timeoutMs ?? 10_000} ms`);
    const response = await session.call(conn, Fetch, version, {
      maxWaitMs: 200,
      minBytes: 1,
      isolationLevel: opts.isolation ?? 0,
      topics: [{ topic: topic.name, topicId: topic.topicId, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 4 << 20 }] }],
    });
    const p = response.responses[0]?.partitions[0];
    if (!p) throw new CheckFailure(`Fetch v${version}: no answer for ${topic.name}-${partition}`);
    if (p.errorCode !== 0 || response.errorCode) throw new CheckFailure(`Fetch v${version}: error ${p.errorCode || response.errorCode}`);
    const raw = splitBatches(p.records ?? Buffer.alloc(0));
    if (raw.length === 0) await sleep(50);
    for (const bytes of raw) {
      const { batches } = await decodeRecordBatches(bytes, { decompress });
      const batch = batches[0];
      if (!batch) continue;
      out.batches.push(batch);
      out.raw.push(bytes);
      count += batch.records.length;
      offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
    }
  }
  return out;
}

/** A record set into its batches: base offset (8 bytes), length (4), then that many bytes. */
function splitBatches(records: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 12 <= records.length) {
    const end = at + 12 + records.readInt32BE(at + 8);
    if (end > records.length) break; // cut by the fetch size: the rest comes next time
    out.push(records.subarray(at, end));
    at = end;
  }
  if (at === 0 && records.length > 0 && records.length < 12) throw new ProtocolError(`record set of ${records.length} bytes`);
  return out;
}

/**
 * Whether a fetched batch is the batch sent, byte for byte, except for what the broker
 * owns: the base offset (bytes 0-7) and the partition leader epoch (12-15). The CRC
 * covers everything from byte 21, so the rest must be as sent unless the broker
 * rewrote the batch (LogAppendTime, or recompression).
 */
export function sameBytes(sent: Buffer, fetched: Buffer): boolean {
  if (sent.length !== fetched.length) return false;
  return sent.subarray(8, 12).equals(fetched.subarray(8, 12)) && sent.subarray(16).equals(fetched.subarray(16));
}
