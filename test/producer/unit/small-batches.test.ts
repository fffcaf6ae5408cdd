/**
 * Many partitions, a few records each: a batch starts in a small buffer and grows as
 * records come, up to batchSize; one that fills little of a pooled buffer over 4 KiB holds
 * only its own bytes of the memory budget once it is in a request; and a batch grows past
 * batchSize only for a busy partition, as records come, and only while the budget keeps a
 * batchSize for every partition with batches; the busy partition's next batch starts where
 * the one before ended.
 */
import { describe, expect, it } from 'vitest';
import { growthSizes, startSizes } from '../../../src/producer/appender.js';
import { Produce } from '../../../src/protocol/apis/index.js';
import { closeWithin, expectNothingLeft, LONG_LINGER, scripted, warmedUp, type Scripted } from '../../helpers/producer-harness.js';

const LATENCY_MS = 50;

/** A producer whose warm-up record was answered (so its broker knows the producer id). */
function connected(options: Parameters<typeof scripted>[0] = {}, internals: Parameters<typeof scripted>[3] = {}): Promise<Scripted> {
  return warmedUp(scripted(options, { latencyMs: LATENCY_MS, topics: { t: 4 } }, undefined, internals), 0);
}

const produceRequests = (s: Scripted) => s.cluster.requestsOf(Produce);

/** Sizes of the record batches written to t-`partition`, in request order. */
function batchSizes(s: Scripted, partition: number): number[] {
  type Body = { topicData: Array<{ partitionData: Array<{ index: number; records: Uint8Array }> }> };
  return produceRequests(s).flatMap((q) => (q.body as Body).topicData.flatMap((t) => t.partitionData.filter((d) => d.index === partition).map((d) => d.records.length)));
}
const RECORD_300 = 'x'.repeat(300);

describe('memory of small batches', () => {
  /**
   * Sends `value` to partition 0 and returns what the budget held once it was appended and
   * once it was in a request; checks that all of it comes back with the answer.
   */
  async function heldBeforeAndInRequest(s: Scripted, value: string): Promise<[number, number]> {
    s.sends.produce({ topic: 't', partition: 0, value });
    const before = s.producer.metrics().bufferedBytes;
    expect(await s.clock.runUntil(() => produceRequests(s).length === 1, 5)).toBe(true);
    const inRequest = s.producer.metrics().bufferedBytes;
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.producer.metrics().bufferedBytes).toBe(0);
    expect(s.sends.errorNames()).toEqual([]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
    return [before, inRequest];
  }

  it('with more than half the budget held, a batch that fills at most half of a buffer over 4 KiB holds only its own bytes of the budget once in a request, and gives them back with its answer', async () => {
    const s = await connected({ batchSize: 16_384, bufferMemory: 24_576 });
    const [before, inRequest] = await heldBeforeAndInRequest(s, 'x'.repeat(5000));
    expect(before).toBe(16_384);
    expect(inRequest).toBeGreaterThan(5000);
    expect(inRequest).toBeLessThan(5200);
  });

  it('with memory to spare, a batch keeps its buffer while in a request (a copy would free nothing anyone needs) and gives it back with its answer', async () => {
    const s = await connected({ batchSize: 16_384 });
    expect(await heldBeforeAndInRequest(s, 'x'.repeat(5000))).toEqual([16_384, 16_384]);
  });

  it('a batch in a small buffer keeps it while in a request (moving it would cost more than it frees) and gives it back with its answer', async () => {
    const s = await connected({ batchSize: 16_384 });
    expect(await heldBeforeAndInRequest(s, 'a')).toEqual([1024, 1024]);
  });

  it('a partition whose batches stay small never holds maxBatchSize buffers', async () => {
    const s = await connected({ batchSize: 16_384, maxBatchSize: 262_144 });
    // Each record lands behind a batch of its partition still out: before, such a batch
    // was given maxBatchSize at once.
    for (let i = 0; i < 4; i++) {
      s.sends.produce({ topic: 't', partition: i, value: 'a' });
      s.sends.produce({ topic: 't', partition: i, value: 'b' });
    }
    expect(await s.clock.runUntil(() => produceRequests(s).length === 1, 5)).toBe(true);
    for (let i = 0; i < 4; i++) s.sends.produce({ topic: 't', partition: i, value: 'c' });
    expect(s.producer.metrics().bufferedBytes).toBeLessThan(5 * 16_384);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(s.cluster.log('t', 3)).toEqual(['a', 'b', 'c']);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  /** Sends `count` records of ~300 bytes to partition 0; what the budget held after each. */
  function heldAfterEach(s: Scripted, count: number): number[] {
    const held: number[] = [];
    for (let i = 0; i < count; i++) {
      s.sends.produce({ topic: 't', partition: 0, value: `${i}${RECORD_300}` });
      held.push(s.producer.metrics().bufferedBytes);
    }
    return held;
  }

  it('a busy partition\'s next batch grows past batchSize as records come, up to maxBatchSize, taking memory as it grows', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, bufferMemory: 32_768 });
    // Three records fill partition 0's first batch of 1 KiB; the fourth starts a second
    // one, which may grow (the first is full): 1 KiB, then 2 KiB, then 8 KiB.
    const held = heldAfterEach(s, 14);
    expect(held.slice(0, 4)).toEqual([1024, 1024, 1024, 2048]);
    expect([...new Set(held.slice(3))]).toEqual([2048, 3072, 9216]);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    // Two batches: growing did not close the second.
    expect(produceRequests(s)).toHaveLength(2);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', ...Array.from({ length: 14 }, (_, i) => `${i}${RECORD_300}`)]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a batch closed full goes at once: it does not linger for the one opened after it', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, bufferMemory: 32_768 });
    // A first record, and a run of the sender that leaves its batch to linger.
    s.sends.produce({ topic: 't', partition: 0, value: 'first' });
    await s.clock.advance(1);
    expect(produceRequests(s)).toHaveLength(0);
    heldAfterEach(s, 4);
    // The fourth record opened a second batch: the first, full, is in a request at once.
    expect(await s.clock.runUntil(() => produceRequests(s).length === 1, 1)).toBe(true);
    expect(batchSizes(s, 0)).toHaveLength(1);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a batch with no room left for another record like its last goes at once, without waiting for a record that does not fit', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 1024, bufferMemory: 32_768 }, { loopBusy: () => false });
    const requestsBefore = produceRequests(s).length;
    for (let i = 0; i < 2; i++) s.sends.produce({ topic: 't', partition: 0, value: `${i}${RECORD_300}` });
    await s.clock.advance(1);
    // Two records of ~310 bytes leave room for a third: the batch lingers.
    expect(produceRequests(s)).toHaveLength(requestsBefore);
    s.sends.produce({ topic: 't', partition: 0, value: `2${RECORD_300}` });
    // A third leaves less than a fourth would take: in a request now, not after lingerMs.
    expect(await s.clock.runUntil(() => produceRequests(s).length === requestsBefore + 1, 1)).toBe(true);
    expect(batchSizes(s, 0)).toHaveLength(1);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', `0${RECORD_300}`, `1${RECORD_300}`, `2${RECORD_300}`]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('keyless records leave no part-filled batch behind when the sticky partition moves on: every batch goes full, none lingers', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 1024, bufferMemory: 65_536 }, { loopBusy: () => false });
    for (let i = 0; i < 60; i++) s.sends.produce({ topic: 't', value: `${i}${RECORD_300}` });
    // Twenty batches of three records, each ready as it closed: all delivered long before
    // lingerMs, in as many round trips as five requests in flight take.
    expect(await s.clock.runUntil(() => s.sends.delivered().length === 60, LONG_LINGER.lingerMs / 2)).toBe(true);
    const perBatch = [0, 1, 2, 3].flatMap((p) => batchSizes(s, p)).filter((n) => n > 200);
    expect(perBatch).toHaveLength(20);
    expect(perBatch.every((n) => n > 1024 - 320)).toBe(true);
    expect(s.sends.errorNames()).toEqual([]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('with the event loop idle and less than a request\'s worth held, a busy partition\'s batches stop at batchSize and each goes at once, as Java\'s do', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, bufferMemory: 32_768 }, { loopBusy: () => false });
    await s.clock.advance(1);
    // Three records of ~300 bytes fill a batch of 1 KiB; every batch after it stops there too.
    expect([...new Set(heldAfterEach(s, 10))]).toEqual([1024, 2048, 3072, 4096]);
    // Each closed batch went when the next one opened, with no time gone by for lingering.
    expect(await s.clock.runUntil(() => batchSizes(s, 0).length === 3, 1)).toBe(true);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(batchSizes(s, 0).every((n) => n <= 1024)).toBe(true);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', ...Array.from({ length: 10 }, (_, i) => `${i}${RECORD_300}`)]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('with the event loop idle but more than a request\'s worth held (the broker is the limit), a busy partition\'s batch grows past batchSize', async () => {
    let busy = true;
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, maxRequestSize: 9216, bufferMemory: 65_536 }, { loopBusy: () => busy });
    busy = false;
    // Partition 1 holds ten batches of 1 KiB, the first ones in requests the broker has not answered yet.
    for (let i = 0; i < 30; i++) s.sends.produce({ topic: 't', partition: 1, value: `${i}${RECORD_300}` });
    expect(s.producer.metrics().bufferedBytes).toBeGreaterThanOrEqual(9216);
    const held = heldAfterEach(s, 14);
    expect(held[13]! - held[0]!).toBe(1024 + 8192 - 1024);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(batchSizes(s, 0).some((n) => n > 1024)).toBe(true);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a batch grown past batchSize while the event loop was busy goes once it is idle again, within a few records, not at lingerMs', async () => {
    let busy = true;
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, bufferMemory: 65_536 }, { loopBusy: () => busy });
    const requestsBefore = produceRequests(s).length;
    // Three records fill the first batch of 1 KiB (it goes); the next seven go into a second
    // one, grown past batchSize while the loop is busy, and it lingers.
    heldAfterEach(s, 10);
    await s.clock.advance(1);
    expect(produceRequests(s)).toHaveLength(requestsBefore + 1);
    // The loop turns idle (a moment's load is over): the grown batch goes with the next
    // record or two, as it is.
    busy = false;
    for (let i = 10; i < 12; i++) s.sends.produce({ topic: 't', partition: 0, value: `${i}${RECORD_300}` });
    expect(await s.clock.runUntil(() => produceRequests(s).length === requestsBefore + 2, 1)).toBe(true);
    expect(batchSizes(s, 0).slice(-1)[0]).toBeGreaterThan(1024);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', ...Array.from({ length: 12 }, (_, i) => `${i}${RECORD_300}`)]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a busy partition\'s next batch starts at the size the one before reached, not at batchSize to grow through each size again', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, bufferMemory: 32_768 });
    const held = heldAfterEach(s, 40);
    // 1 KiB, then the second batch grows through 2 KiB to 8 KiB; the third starts at 8 KiB.
    expect([...new Set(held)]).toEqual([1024, 2048, 3072, 9216, 17_408]);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', ...Array.from({ length: 40 }, (_, i) => `${i}${RECORD_300}`)]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a busy partition\'s batch grows past batchSize only while the budget keeps a batchSize for every partition with batches', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 8192, bufferMemory: 12_288 });
    for (const partition of [1, 2, 3]) s.sends.produce({ topic: 't', partition, value: 'a' });
    const value = 'x'.repeat(300);
    for (let i = 0; i < 11; i++) s.sends.produce({ topic: 't', partition: 0, value: `${i}${value}` });
    // 3 + 1 batches of 1 KiB; partition 0's second grew to 2 KiB (6 records); 8 KiB would
    // leave less than 1 KiB for each of the four partitions, so it was closed, and a third
    // took the last two records, starting at the 2 KiB the second reached (which leaves
    // 1 KiB for each partition).
    expect(s.producer.metrics().bufferedBytes).toBe(3 * 1024 + 1024 + 2048 + 2048);
    expect(s.producer.metrics().waitingSends).toBe(0);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(s.cluster.log('t', 0)).toEqual(['warm-up', ...Array.from({ length: 11 }, (_, i) => `${i}${value}`)]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a single record past maxBatchSize gets a batch of its own, and the partition\'s next batches start at batchSize again', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 1024, maxBatchSize: 1024, maxRequestSize: 65_536 });
    s.sends.produce({ topic: 't', partition: 1, value: 'a' });
    s.sends.produce({ topic: 't', partition: 1, value: 'y'.repeat(20_000) });
    for (let i = 0; i < 50; i++) s.sends.produce({ topic: 't', partition: 1, value: `${i}${'x'.repeat(300)}` });
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(batchSizes(s, 1).filter((n) => n > 1024)).toHaveLength(1);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('with a budget of a few batches, drained batches give back their mostly empty buffers at once, so the next partitions\' records fit', async () => {
    const s = await connected({ lingerMs: 0, batchSize: 16_384, bufferMemory: 65_536, bufferFullPolicy: 'fail' });
    const v = 'x'.repeat(5000);
    s.sends.produce({ topic: 't', partition: 0, value: v });
    s.sends.produce({ topic: 't', partition: 1, value: v });
    await s.clock.advance(1);
    // In a request, they hold their bytes (about 5 KB each), not 16 KiB each.
    expect(s.producer.metrics().bufferedBytes).toBeLessThan(12_000);
    for (const partition of [2, 3]) s.sends.produce({ topic: 't', partition, value: v });
    expect(s.sends.errorNames()).toEqual([]);
    await s.clock.drive(s.producer.flush(), 2000);
    expect(s.sends.errorNames()).toEqual([]);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });
});

describe('batches that start small', () => {
  it('a batch moves into the next start size when a record does not fit, up to batchSize, and its records arrive in order', async () => {
    const s = await connected({ ...LONG_LINGER, batchSize: 16_384 });
    const value = 'x'.repeat(200);
    const sizes: number[] = [];
    for (let i = 0; i < 60; i++) {
      s.sends.produce({ topic: 't', partition: 1, value: `${i} ${value}` });
      sizes.push(s.producer.metrics().bufferedBytes);
    }
    // 1 KiB holds 4 of these records, 4 KiB 19, 16 KiB 76: one buffer at a time, the smaller given back.
    expect([...new Set(sizes)]).toEqual([1024, 4096, 16_384]);
    expect(sizes.indexOf(4096)).toBe(4);
    expect(sizes.indexOf(16_384)).toBe(19);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    // One request, with one batch: growing did not close it.
    expect(produceRequests(s)).toHaveLength(1);
    expect(s.cluster.log('t', 1)).toEqual(Array.from({ length: 60 }, (_, i) => `${i} ${value}`));
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('many partitions with a record each fit a budget of a few batchSizes, none waiting for memory', async () => {
    const s = await warmedUp(scripted({ ...LONG_LINGER, batchSize: 16_384, bufferMemory: 65_536 }, { latencyMs: LATENCY_MS, topics: { t: 4, many: 48 } }), 0);
    for (let partition = 0; partition < 48; partition++) s.sends.produce({ topic: 'many', partition, value: 'a' });
    // Once the topic's metadata is in.
    expect(await s.clock.runUntil(() => s.producer.metrics().bufferedBytes > 0, 500)).toBe(true);
    expect(s.producer.metrics().bufferedBytes).toBe(48 * 1024);
    expect(s.producer.metrics().waitingSends).toBe(0);
    await s.clock.drive(s.producer.flush(), 1000);
    expect(s.sends.errorNames()).toEqual([]);
    for (let partition = 0; partition < 48; partition++) expect(s.cluster.log('many', partition)).toEqual(['a']);
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });

  it('a batch that cannot grow for want of memory waits with its record, which lands in it, in order, once memory is free', async () => {
    // Growing takes the bigger buffer before it gives the smaller one back.
    const s = await connected({ ...LONG_LINGER, batchSize: 16_384, bufferMemory: 16_384 + 4096 + 1024 });
    const value = 'y'.repeat(200);
    // Partition 2 holds most of the budget; partition 3's batch reaches 4 KiB and must wait to grow.
    s.sends.produce({ topic: 't', partition: 2, value: 'x'.repeat(5000) });
    for (let i = 0; i < 8; i++) s.sends.produce({ topic: 't', partition: 3, value: `${i} ${value}` });
    expect(s.producer.metrics().bufferedBytes).toBe(16_384 + 4096);
    for (let i = 8; i < 20; i++) s.sends.produce({ topic: 't', partition: 3, value: `${i} ${value}` });
    expect(s.producer.metrics().waitingSends).toBeGreaterThan(0);
    await s.clock.drive(s.producer.flush(), 5000);
    expect(s.sends.errorNames()).toEqual([]);
    expect(s.cluster.log('t', 3)).toEqual(Array.from({ length: 20 }, (_, i) => `${i} ${value}`));
    await closeWithin(s, 1000);
    await expectNothingLeft(s);
  });
});

describe('startSizes', () => {
  it('steps down from batchSize by quarters while at least 1 KiB, smallest first', () => {
    expect(startSizes({ batchSize: 16_384 })).toEqual([1024, 4096, 16_384]);
    expect(startSizes({ batchSize: 1024 })).toEqual([1024]);
    expect(startSizes({ batchSize: 100 })).toEqual([100]);
    expect(startSizes({ batchSize: 1_000_000 })).toEqual([3906, 15_625, 62_500, 250_000, 1_000_000]);
  });
});

describe('growthSizes', () => {
  it('steps down from maxBatchSize by quarters while above batchSize', () => {
    expect(growthSizes({ batchSize: 16_384, maxBatchSize: 1_047_552 })).toEqual([1_047_552, 261_888, 65_472]);
    expect(growthSizes({ batchSize: 16_384, maxBatchSize: 16_384 })).toEqual([]);
    expect(growthSizes({ batchSize: 1024, maxBatchSize: 8192 })).toEqual([8192, 2048]);
  });
});
