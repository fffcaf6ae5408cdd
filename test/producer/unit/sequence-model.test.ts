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
});
