/**
 * A batch that fails to compress, on a fake clock against a scripted cluster: it was never
 * sent, so it fails alone, with the compressor's error; the other batches of its request
 * are written; and its sequences go to the partition's next batch, which the broker then
 * takes without a refusal or a new epoch. (A real codec fails this way only on a bug or
 * out of memory, so the codec is replaced here by one that fails on a marker value.)
 */
import { describe, expect, it, vi } from 'vitest';
import { InitProducerId, Produce } from '../../../src/protocol/apis/index.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { closeWithin, expectNothingLeft, scripted, warmedUp, type Scripted } from '../../helpers/producer-harness.js';

const MARKER = 'cannot-be-compressed';
/** Fails on the async path (#prepare): the synchronous call declines it, the thread-pool one throws. */
const POOL_MARKER = 'fails-on-the-pool';
/** Compressed on the async path, but only once the test opens the gate. */
const SLOW_MARKER = 'compressed-late';
/** Holds SLOW_MARKER's compression until a test opens it; each test closes it again first. */
const gate = vi.hoisted(() => {
  const g = { opened: Promise.resolve(), open: () => {}, close(): void {
    g.opened = new Promise<void>((resolve) => (g.open = resolve));
  } };
  return g;
});

vi.mock('../../../src/protocol/compression/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/protocol/compression/index.js')>();
  const holds = (data: Uint8Array, marker: string): boolean => Buffer.from(data.buffer, data.byteOffset, data.byteLength).includes(marker);
  const broke = (): Error => new Error('the codec broke on this batch');
  return {
    ...real,
    compressSync: (codecId: number, data: Buffer) => {
      if (holds(data, MARKER)) throw broke();
      if (holds(data, POOL_MARKER) || holds(data, SLOW_MARKER)) return undefined;
      return real.compressSync(codecId, data);
    },
    compress: async (codecId: number, data: Buffer) => {
      if (holds(data, MARKER) || holds(data, POOL_MARKER)) throw broke();
      if (holds(data, SLOW_MARKER)) await gate.opened;
      return real.compress(codecId, data);
    },
  };
});

/**
 * After a batch of t-0 failed to compress: the next batch of t-0 is written by one request,
 * not refused as out of sequence, and under the producer epoch it had (`epochs` InitProducerId so far).
 */
async function nextIsTakenAtOnce(s: Scripted, epochs: number): Promise<void> {
  const next = s.sends.produce({ topic: 't', partition: 0, value: 'next' });
  await s.clock.drive(s.producer.flush(), 1000);
  expect(next.error).toBeUndefined();
  expect(s.cluster.log('t', 0)).toEqual(['warm-up', 'next']);
  expect(s.cluster.requestsOf(Produce)).toHaveLength(1);
  expect(s.cluster.requestsOf(InitProducerId)).toHaveLength(epochs);
  await closeWithin(s, 1000);
  await expectNothingLeft(s);
}

describe('a batch that fails to compress', () => {
  it('fails alone: the other batch of its request is written', async () => {
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 20 }), 1);
    const bad = s.sends.produce({ topic: 't', partition: 0, value: MARKER });
    const good = s.sends.produce({ topic: 't', partition: 1, value: 'fine' });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(bad.error?.message).toBe('the codec broke on this batch');
    expect(good.error).toBeUndefined();
    expect(good.metadata).toMatchObject({ topic: 't', partition: 1 });
    expect(s.cluster.log('t', 1)).toContain('fine');
    expect(s.cluster.log('t', 0)).toEqual([]);
    expect(s.cluster.requestsOf(Produce).map((r) => r.partitions.map((p) => p.partition))).toEqual([[1]]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('does not fail a retry that went in the same request, which may already be in the log', async () => {
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 20 }), 1);
    // Written, but answered as timed out: the batch is retried, and its retry is a duplicate.
    s.cluster.script(Produce, { errorCode: ErrorCode.REQUEST_TIMED_OUT, written: true });
    const retried = s.sends.produce({ topic: 't', partition: 1, value: 'fine' });
    await s.clock.runUntil(() => s.cluster.requestsOf(Produce).some((r) => r.verdict !== undefined), 100);
    await s.clock.advance(2);
    const bad = s.sends.produce({ topic: 't', partition: 0, value: MARKER });
    await s.clock.advance(100);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(bad.error?.message).toBe('the codec broke on this batch');
    expect(retried.error).toBeUndefined();
    expect(s.cluster.log('t', 1)).toEqual(['warm-up', 'fine']);
    expect(s.cluster.requestsOf(Produce).map((r) => r.partitions.map((p) => p.partition))).toEqual([[1], [1]]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('gives its sequences back: the next batch of the partition is taken at once, under the same epoch', async () => {
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 0 }), 0);
    const epochs = s.cluster.requestsOf(InitProducerId).length;
    const bad = s.sends.produce({ topic: 't', partition: 0, value: MARKER });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(bad.error?.message).toBe('the codec broke on this batch');
    await nextIsTakenAtOnce(s, epochs);
  });

  it('a request whose every batch fails to compress ends without a write, and the producer goes on', async () => {
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 0 }), 0);
    const bad = s.sends.produce({ topic: 't', partition: 0, value: MARKER });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(bad.error).toBeDefined();
    expect(s.cluster.requestsOf(Produce)).toHaveLength(0);
    expect(s.producer.metrics().requestsInFlight).toBe(0);
    const after = s.sends.produce({ topic: 't', partition: 1, value: 'after' });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(after.error).toBeUndefined();
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('on the thread-pool path too: the request ends without a write, and the sequences are given back', async () => {
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 0 }), 0);
    const epochs = s.cluster.requestsOf(InitProducerId).length;
    const bad = s.sends.produce({ topic: 't', partition: 0, value: POOL_MARKER });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(bad.error?.message).toBe('the codec broke on this batch');
    expect(s.cluster.requestsOf(Produce)).toHaveLength(0);
    expect(s.producer.metrics().requestsInFlight).toBe(0);
    await nextIsTakenAtOnce(s, epochs);
  });
});

describe('a batch still compressing when its partition gets new sequences', () => {
  it('is not written with the stamp it lost: it goes again under the new one, and every record is delivered once', async () => {
    gate.close();
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 0 }), 0);
    // The next request (a) is refused as out of sequence with nothing sent after it: a real
    // gap, so the partition's batches get new sequences under a new epoch.
    s.cluster.script(Produce, { errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    const a = s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    await s.clock.runUntil(() => s.cluster.requestsOf(Produce).length === 1, 10);
    // b is taken (stamped) into a request of its own, and waits for its compression.
    const b = s.sends.produce({ topic: 't', partition: 0, value: SLOW_MARKER });
    const flushed = s.producer.flush();
    await s.clock.advance(50);
    expect(a.calls, 'a is answered and goes again').toBe(0);
    gate.open();
    await s.clock.drive(flushed, 5000);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', 'a', SLOW_MARKER]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('is not sent once close() has failed it as never sent', async () => {
    gate.close();
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 0 }), 0);
    const late = s.sends.produce({ topic: 't', partition: 0, value: SLOW_MARKER });
    await s.clock.advance(5);
    const closed = s.producer.close({ timeoutMs: 100 });
    await s.clock.advance(150);
    expect(late.error?.message).toMatch(/never sent/);
    gate.open();
    await s.clock.drive(closed, 2000);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up']);
    expect(s.cluster.requestsOf(Produce)).toHaveLength(0);
    await expectNothingLeft(s);
  });

  it('keeps its place: a later batch of the partition does not overtake it, even once the batch that was refused has expired', async () => {
    gate.close();
    const s = await warmedUp(scripted({ compression: 'gzip', lingerMs: 0, requestTimeoutMs: 5000 }), 0);
    const start = s.clock.now();
    // Slow answers, so that a's delivery timeout (10 s by default here) passes while it waits.
    for (const broker of s.cluster.brokers) broker.latencyMs = 3000;
    s.cluster.script(Produce, { errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    const a = s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    await s.clock.runUntil(() => s.cluster.requestsOf(Produce).length === 1, 10);
    await s.clock.advance(2000);
    const x = s.sends.produce({ topic: 't', partition: 0, value: SLOW_MARKER });
    const flushed = s.producer.flush();
    await s.clock.advance(start + 10_005 - s.clock.now());
    const y = s.sends.produce({ topic: 't', partition: 0, value: 'y' });
    await s.clock.advance(20);
    gate.open();
    await s.clock.drive(flushed, 20_000);
    expect(a.error).toBeDefined();
    expect(x.error).toBeUndefined();
    expect(y.error).toBeUndefined();
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', SLOW_MARKER, 'y']);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });
});
