/**
 * Reads one partition back through Fetch, for conformance checks: what did the broker
 * store? Not a consumer (no groups, no offsets committed): it reads a range and stops.
 *
 * read_committed follows KIP-98: the broker returns records up to the last stable offset
 * plus the list of aborted transactions in that range; records of a producer whose
 * aborted transaction has started, up to that transaction's abort marker, are dropped.
 */
import { BrokerError, ProtocolError } from '../errors.js';
import type { BrokerConnection } from '../net/broker-connection.js';
import { Fetch, LATEST_TIMESTAMP, ListOffsets } from '../protocol/apis/index.js';
import { decompress } from '../protocol/compression/index.js';
import { decodeRecordBatches, type DecodedRecord, type RecordBatch } from '../protocol/records/index.js';

export type IsolationLevel = 'read_uncommitted' | 'read_committed';

export interface ReadPartitionOptions {
  topic: string;
  /** Needed for Fetch v13+; without it the reader stays at v12. */
  topicId?: string;
  partition: number;
  fromOffset?: bigint;
  /** Stop before this offset; default: the high watermark (or last stable offset) at the start. */
  untilOffset?: bigint;
  isolation?: IsolationLevel;
  /** Keep control records (transaction markers) in the result. */
  includeControl?: boolean;
  /** Give up after this long without reaching `untilOffset`. */
  timeoutMs?: number;
  /**
   * read_committed: wait up to this long for every transaction written so far to be
   * decided (last stable offset = high watermark). Transaction markers are written after
   * EndTxn returns, so a read right after a commit may otherwise stop short. Default 10 s.
   */
  settleMs?: number;
  maxBytes?: number;
}

export interface PartitionContents {
  records: DecodedRecord[];
  batches: RecordBatch[];
  highWatermark: bigint;
  lastStableOffset: bigint;
  /** The Fetch version used. */
  version: number;
}

const ISOLATION: Record<IsolationLevel, number> = { read_uncommitted: 0, read_committed: 1 };

export async function readPartition(broker: BrokerConnection, opts: ReadPartitionOptions): Promise<PartitionContents> {
  const isolation = opts.isolation ?? 'read_uncommitted';
  const version = broker.requireVersion(Fetch, opts.topicId ? Fetch.maxVersion : 12);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let offset = opts.fromOffset ?? 0n;
  let until = opts.untilOffset;
  const out: PartitionContents = { records: [], batches: [], highWatermark: -1n, lastStableOffset: -1n, version };
  const aborted: Array<{ producerId: bigint; firstOffset: bigint }> = [];
  const abortedProducers = new Set<bigint>();

  if (isolation === 'read_committed' && opts.untilOffset === undefined) {
    const settleBy = Date.now() + (opts.settleMs ?? 10_000);
    const target = await endOffset(broker, opts.topic, opts.partition, 'read_uncommitted');
    while ((await endOffset(broker, opts.topic, opts.partition, 'read_committed')) < target && Date.now() < settleBy) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  while (until === undefined || offset < until) {
    if (Date.now() > deadline) throw new ProtocolError(`reading ${opts.topic}-${opts.partition}: stuck at offset ${offset} of ${until}`);
    const response = await broker.connection.send(Fetch, version, {
      maxWaitMs: 200,
      minBytes: 1,
      maxBytes: opts.maxBytes ?? 16 * 1024 * 1024,
      isolationLevel: ISOLATION[isolation],
      topics: [
        {
          topic: opts.topic,
          topicId: opts.topicId,
          partitions: [{ partition: opts.partition, fetchOffset: offset, partitionMaxBytes: opts.maxBytes ?? 16 * 1024 * 1024 }],
        },
      ],
    });
    if (response.errorCode) throw new BrokerError(response.errorCode, { broker: broker.address, api: `Fetch v${version}` });
    const p = response.responses[0]?.partitions[0];
    if (!p) throw new ProtocolError(`Fetch v${version} from ${broker.address} has no answer for ${opts.topic}-${opts.partition}`);
    if (p.errorCode) throw new BrokerError(p.errorCode, { broker: broker.address, api: `Fetch v${version}` });
    out.highWatermark = p.highWatermark;
    out.lastStableOffset = p.lastStableOffset;
    until ??= isolation === 'read_committed' ? p.lastStableOffset : p.highWatermark;
    for (const a of p.abortedTransactions ?? []) aborted.push(a);
    aborted.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));

    const { batches } = await decodeRecordBatches(p.records ?? Buffer.alloc(0), { decompress });
    for (const batch of batches) {
      const last = batch.baseOffset + BigInt(batch.lastOffsetDelta);
      if (last < offset) continue; // a compressed batch starts before the offset asked for
      while (aborted.length > 0 && aborted[0]!.firstOffset <= last) abortedProducers.add(aborted.shift()!.producerId);
      const skip = isolation === 'read_committed' && batch.attributes.transactional && abortedProducers.has(batch.producerId);
      if (batch.attributes.control) {
        if (batch.records[0]?.control?.type === 'abort') abortedProducers.delete(batch.producerId);
      }
      out.batches.push(batch);
      if (!skip && (!batch.attributes.control || opts.includeControl)) {
        for (const record of batch.records) if (record.offset >= offset && (until === undefined || record.offset < until)) out.records.push(record);
      }
      offset = last + 1n;
    }
  }
  return out;
}

/** The offset the next record of a partition will get (ListOffsets, timestamp -1). */
export async function endOffset(broker: BrokerConnection, topic: string, partition: number, isolation: IsolationLevel = 'read_uncommitted'): Promise<bigint> {
  const { version, response } = await broker.request(ListOffsets, {
    isolationLevel: ISOLATION[isolation],
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: LATEST_TIMESTAMP }] }],
  });
  const p = response.topics[0]?.partitions[0];
  if (!p) throw new ProtocolError(`ListOffsets v${version} from ${broker.address} has no answer for ${topic}-${partition}`);
  if (p.errorCode) throw new BrokerError(p.errorCode, { broker: broker.address, api: `ListOffsets v${version}` });
  return p.offset;
}
