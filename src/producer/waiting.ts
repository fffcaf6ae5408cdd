/**
 * Sends that could not go straight into a batch: their topic's metadata is not known yet,
 * or the memory budget is full. They wait per topic, in send() order, so a record waiting
 * for one topic holds back only the later records of that topic (order per partition is
 * what Kafka promises), never other topics.
 *
 * A waiting send holds a copy of its record (the caller owns its objects again when
 * send() returns). Those copies count against a budget of their own, `bufferMemory`
 * bytes, besides the batches' budget, so a caller that ignores backpressure meets a
 * BufferFullError instead of an out-of-memory crash.
 */
import type { PendingRecord } from './completion.js';
import { Fifo } from './fifo.js';
import type { Bytes, DeliveryCallback, ProducerRecord } from './types.js';

/** What a waiting send costs beyond its bytes: the objects that hold it, and its promise. */
export const WAITING_OVERHEAD_BYTES = 160;

export interface WaitingSend extends PendingRecord {
  readonly record: ProducerRecord;
  readonly timestamp: number;
  readonly callback: DeliveryCallback | undefined;
  readonly signal: AbortSignal | undefined;
  readonly deadline: number;
  /** What it counts against the waiting budget. */
  readonly bytes: number;
  onAbort: (() => void) | undefined;
}

export class TopicWaitQueue {
  readonly topic: string;
  readonly sends = new Fifo<WaitingSend>();
  /** Sends in the queue that have not ended or gone into a batch. */
  live = 0;
  /** Whether a loop serves this queue now. */
  serving = false;
  /** Ends the head's current wait (for metadata or memory) early: aborted, or the producer closes. */
  headWait: AbortController | undefined;

  constructor(topic: string) {
    this.topic = topic;
  }
}

function copyBytes(v: Bytes | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : Buffer.from(v);
}

/** A record whose bytes nobody else holds, and what it costs to hold it. */
export function ownCopy(r: ProducerRecord): { record: ProducerRecord; bytes: number } {
  const key = copyBytes(r.key);
  const value = copyBytes(r.value);
  let bytes = WAITING_OVERHEAD_BYTES + (key?.length ?? 0) + (value?.length ?? 0) + r.topic.length;
  const copyHeader = (k: string, v: Bytes | null): { key: string; value: Buffer | null } => {
    const header = { key: k, value: copyBytes(v) };
    bytes += 48 + k.length * 3 + (header.value?.length ?? 0);
    return header;
  };
  const headers =
    r.headers === undefined
      ? undefined
      : Array.isArray(r.headers)
        ? (r.headers as ReadonlyArray<{ key: string; value: Bytes | null }>).map((h) => copyHeader(h.key, h.value))
        : Object.entries(r.headers).map(([k, v]) => copyHeader(k, v as Bytes | null));
  return { record: { topic: r.topic, key, value, headers, partition: r.partition, timestamp: r.timestamp }, bytes };
}
