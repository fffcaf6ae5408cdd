/**
 * The idempotent producer against a model broker that keeps Kafka's sequence rules and
 * loses answers, loses requests, refuses partitions, times out and restarts at random
 * (test/helpers/model-broker.ts). Real brokers prove the rules in test/producer/faults.test.ts;
 * this runs many seeded fault schedules in seconds. After every schedule, each
 * partition's log must hold every record exactly once, in send order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Producer } from '../../../src/index.js';
import { ModelBroker, type FaultRates } from '../../helpers/model-broker.js';

const PROFILES: Record<string, FaultRates> = {
  mixed: { loseAnswer: 0.03, loseRequest: 0.03, refuse: 0.04, timeOut: 0.03, restart: 0.01, maxDelayMs: 3 },
  // Mostly refusals: a partition's first batch is often refused while the next is taken.
  refusals: { loseAnswer: 0.01, loseRequest: 0.01, refuse: 0.3, timeOut: 0.05, restart: 0.005, maxDelayMs: 3 },
};
const RUNS = Object.keys(PROFILES).flatMap((profile) => [1, 2, 3, 4, 5, 6].map((seed) => ({ profile, seed })));
const PARTITIONS = 3;
const RECORDS = 1500;

describe('idempotent producer against a faulty model broker', () => {
  let broker: ModelBroker | undefined;
  let producer: Producer | undefined;
  afterEach(async () => {
    await producer?.close({ timeoutMs: 1000 });
    await broker?.close();
  });

  it.each(RUNS)('$profile faults, seed $seed: every record once, in send order, on every partition', async ({ profile, seed }) => {
    broker = await ModelBroker.start({ topic: 'model', partitions: PARTITIONS, seed, faults: PROFILES[profile]! });
    producer = new Producer({
      bootstrap: broker.bootstrap,
      // Small batches, so that each partition has several in flight.
      batchSize: 120,
      maxBatchSize: 120,
      lingerMs: 0,
      maxInFlight: 5,
      requestTimeoutMs: 1_000,
      retryBackoffMs: 1,
      retryBackoffMaxMs: 20,
      deliveryTimeoutMs: 60_000,
      metadataMaxAgeMs: 60_000,
    });
    const sent: string[][] = Array.from({ length: PARTITIONS }, () => []);
    const errors: Error[] = [];
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < RECORDS; i++) {
      const partition = i % PARTITIONS;
      const value = `r${i}`;
      sent[partition]!.push(value);
      pending.push(producer.send({ topic: 'model', partition, value }).catch((err: Error) => errors.push(err)));
      // A few records at a time, so that faults land all through the run.
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1));
    }
    // The schedule ends: whatever is still retrying gets through.
    const healed = setTimeout(() => broker!.heal(), 20_000);
    await Promise.all(pending);
    clearTimeout(healed);
    const context = `${profile} faults, seed ${seed}: ${JSON.stringify(broker.counts)}`;
    expect(errors.map((e) => e.message), context).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) {
      expect(broker.partitions[p]!.values, `${context}, partition ${p}`).toEqual(sent[p]);
    }
  }, 60_000);

  // Records that expire leave holes in the sequences; the batches after them are refused
  // as out of sequence until the producer proves the gap and starts a new epoch.
  it.each([11, 12, 13])('an outage long enough for records to expire, seed %i: what was acknowledged is there once, nothing twice, in send order', async (seed) => {
    broker = await ModelBroker.start({ topic: 'model', partitions: PARTITIONS, seed, faults: PROFILES['mixed']! });
    producer = new Producer({
      bootstrap: broker.bootstrap,
      batchSize: 120,
      maxBatchSize: 120,
      lingerMs: 0,
      requestTimeoutMs: 300,
      retryBackoffMs: 1,
      retryBackoffMaxMs: 20,
      deliveryTimeoutMs: 400,
    });
    const sent: string[][] = Array.from({ length: PARTITIONS }, () => []);
    const acknowledged = new Set<string>();
    let failed = 0;
    const pending: Array<Promise<unknown>> = [];
    const outage = setTimeout(() => broker!.setFaults({ ...PROFILES['mixed']!, refuse: 1 }), 300);
    const outageEnds = setTimeout(() => broker!.setFaults(PROFILES['mixed']!), 900);
    for (let i = 0; i < RECORDS; i++) {
      const partition = i % PARTITIONS;
      const value = `r${i}`;
      sent[partition]!.push(value);
      pending.push(producer.send({ topic: 'model', partition, value }).then(() => acknowledged.add(value), () => failed++));
      // Over about 1.5 s: records before, during and after the outage.
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(pending);
    clearTimeout(outage);
    clearTimeout(outageEnds);
    const context = `seed ${seed}: ${failed} failed, ${JSON.stringify(broker.counts)}`;
    expect(failed, context).toBeGreaterThan(0);
    expect(acknowledged.size, context).toBeGreaterThan(0);
    for (let p = 0; p < PARTITIONS; p++) {
      const log = broker.partitions[p]!.values;
      expect(new Set(log).size, `${context}, partition ${p}: no duplicates`).toBe(log.length);
      const order = new Map(sent[p]!.map((v, i) => [v, i]));
      const positions = log.map((v) => order.get(v)!);
      expect(positions, `${context}, partition ${p}: in send order`).toEqual([...positions].sort((a, b) => a - b));
      const inLog = new Set(log);
      expect(sent[p]!.filter((v) => acknowledged.has(v) && !inLog.has(v)), `${context}, partition ${p}: acknowledged but missing`).toEqual([]);
    }
  }, 60_000);
});
