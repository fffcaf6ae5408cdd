/**
 * The tracing channels on a fake clock and a scripted cluster: the events of one record
 * and of one Produce request, in order, on one context object each; headers a subscriber
 * adds are encoded with the record; nothing is published without subscribers.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidTopicError } from '../../../src/index.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { Produce } from '../../../src/protocol/apis/index.js';
import { decodeRecordBatchesSync } from '../../../src/protocol/records/index.js';
import type { ProduceTraceContext, SendTraceContext } from '../../../src/producer/tracing.js';
import { closeWithin, scripted, withBrokenProduceEncoder } from '../../helpers/producer-harness.js';

const EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;

/** Every event of a tracing channel, as [event, context], until stop(). */
function record(name: string): { events: Array<[string, object]>; stop(): void } {
  const events: Array<[string, object]> = [];
  const handlers = EVENTS.map((e) => [`tracing:${name}:${e}`, (m: unknown) => void events.push([e, m as object])] as const);
  for (const [channel, fn] of handlers) subscribe(channel, fn);
  return { events, stop: () => handlers.forEach(([channel, fn]) => unsubscribe(channel, fn)) };
}

let stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

function traced(name: string): Array<[string, object]> {
  const r = record(name);
  stops.push(r.stop);
  return r.events;
}

async function connected(): Promise<ReturnType<typeof scripted>> {
  const s = scripted();
  await s.clock.drive(s.producer.send({ topic: 't', partition: 0, value: 'warm-up' }), 10_000);
  s.cluster.forgetRequests();
  return s;
}

describe('tracing:kafka-wire:send', () => {
  it('one context per record: start, end around send(); asyncStart, asyncEnd around its callback, with where it landed', async () => {
    const s = await connected();
    const events = traced('kafka-wire:send');
    const delivered = s.producer.send({ topic: 't', partition: 1, key: 'k', value: 'v' });
    expect(events.map(([e]) => e)).toEqual(['start', 'end']);
    const metadata = await s.clock.drive(delivered, 1000);
    expect(events.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const contexts = new Set(events.map(([, c]) => c));
    expect(contexts.size).toBe(1);
    const ctx = [...contexts][0] as SendTraceContext;
    expect(ctx.record).toMatchObject({ topic: 't', partition: 1, key: 'k' });
    expect(ctx.result).toEqual(metadata);
    await closeWithin(s, 1000);
  });

  it('a record the broker refuses: error (with the error on the context) before asyncStart', async () => {
    const s = await connected();
    const events = traced('kafka-wire:send');
    s.cluster.script(Produce, { errorCode: ErrorCode.INVALID_REQUIRED_ACKS });
    const outcome = s.producer.send({ topic: 't', partition: 0, value: 'refused' }).catch((e: unknown) => e as Error);
    const err = await s.clock.drive(outcome, 1000);
    expect(events.map(([e]) => e)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect((events[2]![1] as SendTraceContext).error).toBe(err);
    await closeWithin(s, 1000);
  });

  it('bad input: start, error, end, and no callback events', async () => {
    const s = scripted();
    const events = traced('kafka-wire:send');
    expect(() => s.producer.produce({ topic: 'no spaces allowed', value: 'v' })).toThrow(InvalidTopicError);
    expect(events.map(([e]) => e)).toEqual(['start', 'error', 'end']);
    await closeWithin(s, 1000);
  });

  it('headers a start subscriber sets are written after the record\'s own, replacing those of the same key', async () => {
    const s = await connected();
    const add = (m: unknown): void => {
      (m as SendTraceContext).headers = [{ key: 'traceparent', value: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }];
    };
    subscribe('tracing:kafka-wire:send:start', add);
    stops.push(() => unsubscribe('tracing:kafka-wire:send:start', add));
    await s.clock.drive(s.producer.send({ topic: 't', partition: 0, value: 'v', headers: { own: 'x' } }), 1000);
    // A record forwarded with the traceparent it came with: the subscriber's replaces it, not a second one.
    await s.clock.drive(s.producer.send({ topic: 't', partition: 0, value: 'w', headers: [{ key: 'traceparent', value: '00-11111111111111111111111111111111-2222222222222222-01' }, { key: 'own', value: 'y' }] }), 1000);
    const written = s.cluster.requestsOf(Produce).map((request) => {
      const body = request.body as { topicData: Array<{ partitionData: Array<{ records: Buffer }> }> };
      return decodeRecordBatchesSync(body.topicData[0]!.partitionData[0]!.records).batches[0]!.records[0]!.headers.map((h) => [h.key, h.value?.toString()]);
    });
    expect(written).toEqual([
      [
        ['own', 'x'],
        ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      ],
      [
        ['own', 'y'],
        ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      ],
    ]);
    await closeWithin(s, 1000);
  });
});

describe('tracing:kafka-wire:produce', () => {
  it('one context per request: start and end as it is written, asyncStart and asyncEnd around its answer', async () => {
    const s = await connected();
    const events = traced('kafka-wire:produce');
    s.producer.produce({ topic: 't', partition: 0, value: 'a' });
    s.producer.produce({ topic: 't', partition: 1, value: 'b' });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(events.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const ctx = events[0]![1] as ProduceTraceContext;
    expect(ctx).toMatchObject({ partitions: 2, records: 2, acks: -1, throttleTimeMs: 0 });
    expect(ctx.requestId).toBeGreaterThan(0);
    await closeWithin(s, 1000);
  });

  it('the plain request and response channels alone: an answer carries its request\'s id', async () => {
    const s = await connected();
    const requests: Array<{ requestId: number }> = [];
    const responses: Array<{ requestId: number }> = [];
    const onRequest = (m: unknown): void => void requests.push(m as { requestId: number });
    const onResponse = (m: unknown): void => void responses.push(m as { requestId: number });
    subscribe('kafka-wire:produce:request', onRequest);
    subscribe('kafka-wire:produce:response', onResponse);
    stops.push(() => unsubscribe('kafka-wire:produce:request', onRequest), () => unsubscribe('kafka-wire:produce:response', onResponse));
    for (let i = 0; i < 3; i++) await s.clock.drive(s.producer.send({ topic: 't', partition: i % 2, value: 'v' }), 1000);
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.requestId > 0)).toBe(true);
    expect(new Set(requests.map((r) => r.requestId)).size).toBe(3);
    expect(responses.map((r) => r.requestId)).toEqual(requests.map((r) => r.requestId));
    await closeWithin(s, 1000);
  });

  it('a request that cannot be encoded: start, error, end, and its records fail with the error', async () => {
    const s = await connected();
    const events = traced('kafka-wire:produce');
    const bug = new Error('encoder bug');
    const outcome = s.producer.send({ topic: 't', partition: 0, value: 'a' }).catch((e: unknown) => e as Error);
    expect(await withBrokenProduceEncoder(bug, () => s.clock.drive(outcome, 1000))).toBe(bug);
    expect(events.map(([e]) => e)).toEqual(['start', 'error', 'end']);
    expect((events[1]![1] as ProduceTraceContext).error).toBe(bug);
    await closeWithin(s, 1000);
  });

  it('a request whose connection is lost: error, then asyncStart and asyncEnd around the retry decision', async () => {
    const s = await connected();
    const events = traced('kafka-wire:produce');
    s.cluster.script(Produce, 'disconnect');
    s.producer.produce({ topic: 't', partition: 0, value: 'a' });
    await s.clock.drive(s.producer.flush(), 10_000);
    const first = events.filter(([, c]) => c === events[0]![1]).map(([e]) => e);
    expect(first).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    await closeWithin(s, 1000);
  });
});
