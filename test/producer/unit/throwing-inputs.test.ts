/**
 * A send that brings something that throws (a signal that is no AbortSignal, a value that
 * fails when read), or is aborted at the wrong moment, while the producer holds something
 * for it: the record ends once, nothing is written for it, and no memory, batch, count or
 * timer is left behind. (Found by a review hunting for such paths; each test failed before.)
 */
import { describe, expect, it } from 'vitest';
import { AbortedError, ConfigError } from '../../../src/index.js';
import type { ProducerRecord } from '../../../src/index.js';
import { closeWithin, expectNothingLeft, scripted, warmedUp, type Outcome, type Scripted } from '../../helpers/producer-harness.js';

/** send(), its promise handed back, its outcome kept with the harness's (for expectNothingLeft). */
function sendTracked(s: Scripted, record: ProducerRecord): Promise<unknown> {
  const o: Outcome = { id: s.sends.all.length, record, calls: 0, error: undefined, metadata: undefined, at: undefined, accepted: undefined };
  s.sends.all.push(o);
  const p = s.producer.send(record);
  p.then(
    (m) => Object.assign(o, { calls: o.calls + 1, metadata: m }),
    (e: Error) => Object.assign(o, { calls: o.calls + 1, error: e }),
  );
  return p;
}

const big = (v: string): string => v.padEnd(900, '.');

describe('what a send brings that throws, or an abort at the wrong moment, while the producer holds something', () => {
  it('a send that waited for memory, aborted one microtask after it went into a batch: ends once', async () => {
    const s = await warmedUp(scripted({ bufferMemory: 4096, batchSize: 1024, maxBatchSize: 1024, maxBlockMs: 60_000, deliveryTimeoutMs: 60_000, requestTimeoutMs: 30_000 }), 1);
    s.cluster.freeze();
    const ac = new AbortController();
    // The first record's sender, awaiting it and one more thing, then cancelling the other send.
    const first = (async () => {
      await sendTracked(s, { topic: 't', partition: 0, value: big('first') });
      await null;
      ac.abort();
    })();
    for (let i = 1; i < 4; i++) s.sends.produce({ topic: 't', partition: 0, value: big(`${i}`) });
    const cancelled = s.sends.send({ topic: 't', partition: 0, value: big('cancelled') }, ac.signal);
    await s.clock.advance(10);
    expect(s.producer.metrics().waitingSends, 'the last send waits for memory').toBe(1);
    s.cluster.thaw();
    await s.clock.drive(first, 10_000);
    await s.clock.drive(s.producer.flush(), 10_000);
    expect(cancelled.error).toBeInstanceOf(AbortedError);
    expect.soft(s.sends.pending().map((o) => String(o.record.value).trim().replace(/\.+$/, '')), 'records not ended when flush() resolved').toEqual([]);
    const m = s.producer.metrics();
    expect.soft([m.recordsAborted, m.recordsFailed], 'the aborted record, counted once').toEqual([1, 1]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  // A common JavaScript slip: the controller passed where its signal belongs.
  const notASignal = (): AbortSignal => new AbortController() as unknown as AbortSignal;

  it('send() with an AbortController for signal, its batch open: the record is refused, and is then neither written nor counted twice', async () => {
    const s = await warmedUp(scripted(), 1);
    const refused = s.producer.send({ topic: 't', partition: 0, value: 'refused' }, { signal: notASignal() });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(/signal must be an AbortSignal.*an AbortController was passed: give its \.signal/);
    await s.clock.advance(100);
    expect.soft(s.cluster.log('t', 0), 'a record whose send() rejected').toEqual([]);
    const m = s.producer.metrics();
    expect.soft(m.recordsSent, 'only the warm-up record was sent').toBe(1);
    await closeWithin(s, 1000);
  });

  it('send() with an AbortController for signal, its topic not known yet: refused, and flush() still settles', async () => {
    const s = await warmedUp(scripted({ allowAutoTopicCreation: false }), 1);
    const refused = s.producer.send({ topic: 'late', value: 'refused' }, { signal: notASignal() });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    expect(s.producer.metrics().waitingSends).toBe(0);
    let flushed = false;
    void s.producer.flush().then(() => (flushed = true));
    await s.clock.runUntil(() => flushed, 5000);
    expect.soft(flushed, 'flush() within 5 s, with nothing left to send').toBe(true);
    expect.soft(await closeWithin(s, 1000), 'close() with nothing left to send').toBeLessThan(100);
  });

  it('a record whose value cannot be read when it is encoded, into a new batch: fails alone, and leaves no empty batch holding memory', async () => {
    const s = await warmedUp(scripted(), 1);
    // A value read lazily (a getter, a Proxy): fine when checked, failing the fifth time it is read, when encoded into its batch.
    let reads = 0;
    const record = { topic: 't', partition: 0, get value(): string {
      if (++reads === 5) throw new Error('serializing failed');
      return 'v';
    } };
    const o = s.sends.produce(record as never);
    expect(o.error?.message).toBe('serializing failed');
    await s.clock.advance(100);
    expect.soft(s.producer.metrics().bufferedBytes, 'memory held once the only record of t-0 failed').toBe(0);
    await s.clock.drive(s.producer.flush(), 1000);
    await s.clock.advance(100);
    expect.soft(s.cluster.requestsOf('Produce').length, 'Produce requests (with no record to carry)').toBe(0);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a send() made from inside another send() (a partitioner that sends): each promise settles with its own record', async () => {
    let inner: Promise<unknown> | undefined;
    let producer!: Scripted['producer'];
    const s = await warmedUp(
      scripted({
        partitioner: ({ key }) => {
          // The outer send() is between making its promise and submitting its record.
          if (key?.toString() === 'outer' && !inner) inner = producer.send({ topic: 't', key: 'inner', value: 'inner' });
          return key?.toString() === 'outer' ? 0 : 1;
        },
      }),
      1,
    );
    producer = s.producer;
    const outer = s.producer.send({ topic: 't', key: 'outer', value: 'outer' });
    // And one refused at once, after them: its rejection is its own too.
    const refused = s.producer.send({ topic: 't', value: 'v', key: 7 as never }).then(() => undefined, (e: Error) => e);
    await s.clock.drive(s.producer.flush(), 1000);
    const [o, i] = (await Promise.all([outer, inner])) as [{ partition: number }, { partition: number }];
    expect(o.partition).toBe(0);
    expect(i.partition).toBe(1);
    expect((await refused)?.message).toMatch(/record key must be/);
    await closeWithin(s, 1000);
  });
});
