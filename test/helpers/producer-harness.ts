/**
 * A producer on a FakeClock and a ScriptedCluster, and the bookkeeping the deterministic
 * producer tests share: every send's outcome (with how many times its callback ran), and
 * the check that a closed producer left nothing behind.
 */
import { expect } from 'vitest';
import { Producer, ProducerClosedError, type ProducerOptions, type ProducerRecord, type RecordMetadata } from '../../src/index.js';
import type { ProducerInternals } from '../../src/producer/producer.js';
import type { ProducerMetrics } from '../../src/producer/types.js';
import { Produce } from '../../src/protocol/apis/index.js';
import { FakeClock } from './fake-clock.js';
import { ScriptedCluster, type ClusterOptions } from './scripted-broker.js';

export interface Scripted {
  clock: FakeClock;
  cluster: ScriptedCluster;
  producer: Producer;
  sends: Sends;
}

/**
 * Options small enough for fake time to move in steps a test can reason about; a test
 * overrides what it is about. Periodic metadata refresh is off unless asked for, so the
 * only timers are the ones under test.
 */
export const TEST_OPTIONS: Partial<ProducerOptions> = {
  lingerMs: 0,
  requestTimeoutMs: 1000,
  deliveryTimeoutMs: 10_000,
  retryBackoffMs: 10,
  retryBackoffMaxMs: 100,
  maxBlockMs: 5000,
  metadataMaxAgeMs: 0,
};

export function scripted(
  producerOptions: Partial<ProducerOptions> = {},
  clusterOptions: ClusterOptions = {},
  clock = new FakeClock(),
  internals: Pick<ProducerInternals, 'loopBusy'> = {},
): Scripted {
  const cluster = new ScriptedCluster(clock, { topics: { t: 2 }, ...clusterOptions });
  // No safety-net runs: a partition the sender forgets to look at shows as a record that never ends.
  // The event loop counts as busy unless a test says otherwise: the real one's load is no test's to decide.
  const producer = new Producer(
    { bootstrap: cluster.bootstrap, ...TEST_OPTIONS, ...producerOptions },
    { clock, dial: cluster.dial, fullRunEveryMs: Infinity, loopBusy: () => true, ...internals },
  );
  return { clock, cluster, producer, sends: new Sends(producer, clock) };
}

export interface Outcome {
  readonly id: number;
  readonly record: ProducerRecord;
  /** How many times the callback ran (or the promise settled): exactly once in the end. */
  calls: number;
  error: Error | undefined;
  metadata: RecordMetadata | undefined;
  /** Fake time it ended at. */
  at: number | undefined;
  /** What produce() returned: false asks the caller to await ready(). */
  accepted: boolean | undefined;
  /** A sendBatch() record: whether the producer took it in (one it never did has no end, and is never written). */
  takenIn?: boolean;
}

/** The outcome of every record a test sends, in send order. */
export class Sends {
  readonly all: Outcome[] = [];
  /** Outcomes of a test's setup: out of its assertions, still in the final accounting. */
  readonly setAside: Outcome[] = [];
  readonly #producer: Producer;
  readonly #clock: FakeClock;

  constructor(producer: Producer, clock: FakeClock) {
    this.#producer = producer;
    this.#clock = clock;
  }

  /** produce() with a callback: the path that can show a second call. Throws what produce() throws. */
  produce(record: ProducerRecord): Outcome {
    const o = this.#outcome(record);
    o.accepted = this.#producer.produce(record, (err, metadata) => this.#end(o, err, metadata));
    return o;
  }

  /** send(), with a signal when given. */
  send(record: ProducerRecord, signal?: AbortSignal): Outcome {
    const o = this.#outcome(record);
    this.#producer.send(record, { signal }).then(
      (metadata) => this.#end(o, null, metadata),
      (err: Error) => this.#end(o, err, null),
    );
    return o;
  }

  /** An outcome for a record the test sends some other way, ended through `ended`. */
  tracked(record: ProducerRecord): Outcome {
    return this.#outcome(record);
  }

  ended(o: Outcome, err: Error | null, metadata: RecordMetadata | null): void {
    this.#end(o, err, metadata);
  }

  /** Moves what was sent so far out of `all` (a setup's records), keeping it for expectNothingLeft. */
  putAside(): void {
    this.setAside.push(...this.all.splice(0));
  }

  pending(): Outcome[] {
    return this.all.filter((o) => o.calls === 0);
  }

  delivered(): Outcome[] {
    return this.all.filter((o) => o.calls > 0 && !o.error);
  }

  failed(): Outcome[] {
    return this.all.filter((o) => o.error);
  }

  /** Error class names of the failed records, for a readable assertion. */
  errorNames(): string[] {
    return this.failed().map((o) => o.error!.name);
  }

  #outcome(record: ProducerRecord): Outcome {
    const o: Outcome = { id: this.all.length, record, calls: 0, error: undefined, metadata: undefined, at: undefined, accepted: undefined };
    this.all.push(o);
    return o;
  }

  #end(o: Outcome, err: Error | null, metadata: RecordMetadata | null): void {
    o.calls++;
    o.error = err ?? undefined;
    o.metadata = metadata ?? undefined;
    o.at = this.#clock.now();
  }
}

/** How long past its timeoutMs close() may take on the fake clock: its own last timer, no more. */
export const CLOSE_SLACK_MS = 50;

/** A lingerMs longer than any test runs, with the delivery timeout Java's rule then asks for. */
export const LONG_LINGER = { lingerMs: 60_000, deliveryTimeoutMs: 120_000 };

/**
 * `s` once it has delivered a warm-up record to t-`partition`, so it has t's metadata, a
 * connection and its producer id: a test's clock starts with the sender idle, the request
 * log empty and the warm-up send put aside.
 */
export async function warmedUp(s: Scripted, partition: number): Promise<Scripted> {
  const warmUp = s.sends.produce({ topic: 't', partition, value: 'warm-up' });
  await s.clock.drive(s.producer.flush(), 10_000);
  expect(warmUp.error).toBeUndefined();
  s.sends.putAside();
  s.cluster.forgetRequests();
  return s;
}

/** Closes the producer on the fake clock; returns how long it took. */
export async function closeWithin(s: Scripted, timeoutMs: number): Promise<number> {
  return s.clock.settledAfter(s.producer.close({ timeoutMs }), timeoutMs + CLOSE_SLACK_MS + 1);
}

/**
 * What a closed producer must have left: every record ended once, the counters adding up,
 * no memory held, no timer set, no connection open or being dialled, no task that threw.
 */
export async function expectNothingLeft(s: Scripted): Promise<void> {
  const { clock, cluster, producer, sends } = s;
  // What is due now may still run (a `soon` task queued by the last step of close()); a
  // timer set for later is one left behind.
  await clock.advance(0);
  const m = producer.metrics();
  expect(
    [...sends.setAside, ...sends.all].filter((o) => o.calls !== 1 && o.takenIn !== false).map((o) => `${String(o.record.value)}: ${o.calls} calls`),
    'every callback ran exactly once',
  ).toEqual([]);
  expect(clock.pendingTimerList(), 'fake timers still set after close()').toEqual([]);
  expect(cluster.openChannels(), 'channels open after close()').toBe(0);
  expect(cluster.pendingDials(), 'dials still pending after close()').toBe(0);
  expect(m.bufferedBytes, 'bufferedBytes after close()').toBe(0);
  expectCountersAddUp(m, sends);
  expect(clock.taskErrors, 'exceptions thrown by timer or soon tasks').toEqual([]);
  // Closed means closed: nothing more is accepted.
  expect(() => producer.produce({ topic: 't', value: 'late' })).toThrow(ProducerClosedError);
}

/** recordsSent + recordsFailed are the records accepted; aborted and dropped ones are among the failed. */
export function expectCountersAddUp(m: ProducerMetrics, sends: Sends): void {
  const ended = [...sends.setAside, ...sends.all].filter((o) => o.calls > 0);
  const counts = {
    recordsSent: ended.filter((o) => !o.error).length,
    recordsFailed: ended.filter((o) => o.error).length,
    recordsAborted: ended.filter((o) => o.error?.name === 'AbortedError').length,
    recordsDropped: ended.filter((o) => o.error?.name === 'RecordDroppedError').length,
  };
  expect({ recordsSent: m.recordsSent, recordsFailed: m.recordsFailed, recordsAborted: m.recordsAborted, recordsDropped: m.recordsDropped }, 'metrics() against the outcomes seen').toEqual(counts);
}

/**
 * Runs `during` while every Produce version's request codec throws `error` when sizing a
 * body, as an encoder bug would: the one way to reach the sender's "not encodable" path.
 */
export async function withBrokenProduceEncoder<T>(error: Error, during: () => Promise<T>): Promise<T> {
  const codecs = Array.from({ length: Produce.maxVersion - Produce.minVersion + 1 }, (_, i) => Produce.requestCodec(Produce.minVersion + i));
  const sizes = codecs.map((c) => c.size);
  for (const c of codecs) {
    c.size = () => {
      throw error;
    };
  }
  try {
    return await during();
  } finally {
    codecs.forEach((c, i) => (c.size = sizes[i]!));
  }
}
