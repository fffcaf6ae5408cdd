/**
 * TransactionalProducerPool on the fake clock: its producers are made with the scripted
 * cluster's clock and dialer (the pool has no way to pass internals, so the module is wrapped).
 */
import { describe, expect, it, vi } from 'vitest';
import { ProducerClosedError, TransactionalProducerPool } from '../../../src/index.js';
import type { ProducerInternals } from '../../../src/producer/producer.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { TEST_OPTIONS } from '../../helpers/producer-harness.js';
import { ScriptedCluster } from '../../helpers/scripted-broker.js';

const env = vi.hoisted(() => ({ internals: undefined as unknown }));

vi.mock('../../../src/producer/producer.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/producer/producer.js')>();
  class Producer extends real.Producer {
    constructor(options: ConstructorParameters<typeof real.Producer>[0], internals?: ProducerInternals) {
      super(options, internals ?? (env.internals as ProducerInternals));
    }
  }
  return { ...real, Producer };
});

describe('TransactionalProducerPool.close()', () => {
  it('a run waiting for a producer when the pool closes gets no new producer, and nothing is left open', async () => {
    const clock = new FakeClock();
    const cluster = new ScriptedCluster(clock, { topics: { t: 1 } });
    env.internals = { clock, dial: cluster.dial, fullRunEveryMs: Infinity };
    const pool = new TransactionalProducerPool({ ...TEST_OPTIONS, bootstrap: cluster.bootstrap, size: 1, transactionalIdPrefix: 'tx' });
    let started = false;
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    const first = pool.run(async (p) => {
      started = true;
      await gate;
      await p.send({ topic: 't', value: 'first' });
    });
    const first$ = first.then(() => 'ok', (e: Error) => e.name);
    let secondRan = false;
    const second = pool.run(async (p) => {
      secondRan = true;
      await p.send({ topic: 't', value: 'second' });
    });
    const second$ = second.then(() => 'ok', (e: Error) => e.name);
    expect(await clock.runUntil(() => started, 5000), 'the first run started its transaction').toBe(true);
    await clock.drive(pool.close(), 5000);
    go();
    const outcomes = await clock.drive(Promise.all([first$, second$]), 10_000);
    expect(outcomes[0]).toBe('ProducerClosedError');
    expect.soft(secondRan, 'the waiting run was handed a producer after close()').toBe(false);
    expect.soft(outcomes[1], 'the waiting run').toBe(new ProducerClosedError('').name);
    await clock.advance(0);
    expect.soft(cluster.openChannels(), 'connections open after the pool closed').toBe(0);
    expect.soft(clock.pendingTimerList(), 'timers set after the pool closed').toEqual([]);
  });
});
