/**
 * What the producer tells observers, through node:diagnostics_channel. Nothing is built
 * or published while nobody subscribes.
 *
 * Two tracing channels (start / end / asyncStart / asyncEnd / error, each event carrying
 * one context object for the whole operation, so a subscriber can hang its span on it):
 *
 *   tracing:kafka-wire:send      one per record: start and end around send()/produce()
 *                                itself; asyncStart/asyncEnd around the delivery callback;
 *                                error before it when the record failed.
 *   tracing:kafka-wire:produce   one per Produce request: start when it is written, then
 *                                asyncStart/asyncEnd when its answer is handled, or error.
 *
 * A `start` subscriber of the send channel may add headers to the record (W3C
 * `traceparent`, say) by setting `context.headers`: they are encoded with the record,
 * replacing the record's own headers of the same keys.
 * The plain channels of earlier versions (kafka-wire:produce:request, :response, :batch)
 * stay, with the payload types below.
 */
import { channel, tracingChannel, type TracingChannel } from 'node:diagnostics_channel';
import type { ProducerRecord, RecordHeaderInput, RecordMetadata } from './types.js';

/** The context of one record, from send() to its delivery callback. */
export interface SendTraceContext {
  /** The record as given to send() or produce(): read it, do not change it. */
  readonly record: ProducerRecord;
  /** The producer's clientId. */
  readonly clientId: string;
  /** Headers a `start` subscriber adds; encoded after the record's own headers, replacing those of the same keys. */
  headers: RecordHeaderInput[] | undefined;
  /** Where the record landed, once delivered. */
  result: RecordMetadata | undefined;
  /** Why it failed (set before the `error` event). */
  error: Error | undefined;
}

/** The context of one Produce request. */
export interface ProduceTraceContext {
  /** Unique within the process: pairs this request's events with each other. */
  readonly requestId: number;
  /** `host:port` of the broker. */
  readonly broker: string;
  readonly nodeId: number;
  /** The Produce version spoken. */
  readonly version: number;
  readonly acks: 0 | 1 | -1;
  /** Partitions (one batch each) and bytes of record batches in the request. */
  readonly partitions: number;
  readonly records: number;
  readonly bytes: number;
  /** The broker's throttle_time_ms, once answered. */
  throttleTimeMs: number | undefined;
  error: Error | undefined;
}

/** Published on `kafka-wire:produce:request` before each Produce request is written. */
export interface ProduceRequestMessage {
  broker: string;
  nodeId: number;
  version: number;
  acks: 0 | 1 | -1;
  partitions: number;
  bytes: number;
  requestId: number;
}

/** Published on `kafka-wire:produce:response` for each Produce answer. */
export interface ProduceResponseMessage {
  broker: string;
  nodeId: number;
  version: number;
  throttleTimeMs: number;
  requestId: number;
}

/** Published on `kafka-wire:produce:batch` for each delivered batch. */
export interface ProduceBatchMessage {
  topic: string;
  partition: number;
  records: number;
  bytes: number;
  attempts: number;
  baseOffset: bigint;
}

export const SEND_CHANNEL: TracingChannel<SendTraceContext, SendTraceContext> = tracingChannel('kafka-wire:send');
export const PRODUCE_CHANNEL: TracingChannel<ProduceTraceContext, ProduceTraceContext> = tracingChannel('kafka-wire:produce');
export const REQUEST_CHANNEL = channel('kafka-wire:produce:request');
export const RESPONSE_CHANNEL = channel('kafka-wire:produce:response');
export const BATCH_CHANNEL = channel('kafka-wire:produce:batch');

/** Whether anyone listens to any event of a tracing channel (TracingChannel.hasSubscribers is Node 20.13+). */
export function traced(tc: TracingChannel<object, object>): boolean {
  return tc.start.hasSubscribers || tc.end.hasSubscribers || tc.asyncStart.hasSubscribers || tc.asyncEnd.hasSubscribers || tc.error.hasSubscribers;
}

let nextRequestId = 1;

/** An id for a Produce request's events. */
export function newRequestId(): number {
  return nextRequestId++;
}

/**
 * The record with `extra` headers after its own (which may be in the object form). A key
 * `extra` sets replaces the record's own headers of that key, as a propagator's inject
 * does: a record forwarded with the `traceparent` it arrived with would otherwise carry
 * two, and consumers reading the first and the last would disagree on its parent.
 */
export function withHeaders(record: ProducerRecord, extra: readonly RecordHeaderInput[]): ProducerRecord {
  const own: RecordHeaderInput[] =
    record.headers === undefined
      ? []
      : Array.isArray(record.headers)
        ? [...(record.headers as readonly RecordHeaderInput[])]
        : Object.entries(record.headers).map(([key, value]) => ({ key, value: value as RecordHeaderInput['value'] }));
  const replaced = new Set(extra.map((h) => h.key));
  return { ...record, headers: [...own.filter((h) => !replaced.has(h.key)), ...extra] };
}
