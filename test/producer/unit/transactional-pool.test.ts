/**
 * TransactionalProducerPool on the fake clock: its producers are made with the scripted
 * cluster's clock and dialer (the pool has no way to pass internals, so the module is wrapped).
 */
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, ProducerClosedError, TransactionalProducerPool } from '../../../src/index.js';
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

function setup(): { clock: FakeClock; cluster: ScriptedCluster; pool: TransactionalProducerPool } {
  const clock = new FakeClock();
  const cluster = new ScriptedCluster(clock, { topics: { t: 1 } });
  env.internals = { clock, dial: cluster.dial, fullRunEveryMs: Infinity, loopBusy: () => true };
  const pool = new TransactionalProducerPool({ ...TEST_OPTIONS, bootstrap: cluster.bootstrap, size: 1, transactionalIdPrefix: 'tx' }, env.internals as ProducerInternals);
  return { clock, cluster, pool };
}

/** A run that starts its transaction, sends `first`, and waits for the gate before sending `second`. */
function gatedRun(pool: TransactionalProducerPool): { outcome: Promise<string>; started: () => boolean; go: () => void } {
  let started = false;
  let go!: () => void;
  const gate = new Promise<void>((resolve) => (go = resolve));
  const run = pool.run(async (p) => {
    await p.send({ topic: 't', value: 'first' });
    started = true;
    await gate;
    await p.send({ topic: 't', value: 'second' });
  });
  return { outcome: run.then(() => 'ok', (e: Error) => e.name), started: () => started, go };
}

async function expectNothingOpen(clock: FakeClock, cluster: ScriptedCluster): Promise<void> {
  await clock.advance(0);
  expect.soft(cluster.openChannels(), 'connections open after the pool closed').toBe(0);
  expect.soft(clock.pendingTimerList(), 'timers set after the pool closed').toEqual([]);
}

describe('TransactionalProducerPool.close()', () => {
  it('waits for the run under way, which commits; a run waiting for a producer gets none', async () => {
    const { clock, cluster, pool } = setup();
    const first = gatedRun(pool);
    let secondRan = false;
    const second = pool.run(async (p) => {
      secondRan = true;
      await p.send({ topic: 't', value: 'other' });
    });
    const second$ = second.then(() => 'ok', (e: Error) => e.name);
    expect(await clock.runUntil(first.started, 5000), 'the first run is in its transaction').toBe(true);
    let closed = false;
    const closing = pool.close().then(() => void (closed = true));
    await clock.advance(1000);
    expect(closed, 'close() with a run under way').toBe(false);
    expect(await clock.drive(second$, 100), 'the waiting run').toBe(new ProducerClosedError('').name);
    first.go();
    await clock.drive(closing, 10_000);
    expect(await first.outcome, 'the run under way').toBe('ok');
    expect.soft(secondRan, 'the waiting run was handed a producer after close()').toBe(false);
    expect(cluster.log('t', 0)).toEqual(['first', 'second']);
    await expectNothingOpen(clock, cluster);
  });

  it('gives up on a run still going at timeoutMs: it fails with ProducerClosedError, nothing is left open', async () => {
    const { clock, cluster, pool } = setup();
    const first = gatedRun(pool);
    expect(await clock.runUntil(first.started, 5000)).toBe(true);
    const took = await clock.settledAfter(pool.close({ timeoutMs: 2000 }), 2000 + 2000);
    expect(took).toBeGreaterThanOrEqual(2000);
    first.go();
    expect(await clock.drive(first.outcome, 5000)).toBe('ProducerClosedError');
    await expectNothingOpen(clock, cluster);
  });
});

describe('TransactionalProducerPool options', () => {
  const base = { bootstrap: '127.0.0.1:9092', size: 2 };
  it('without transactionalIdPrefix: refused, not producers named undefined-0', () => {
    expect(() => new TransactionalProducerPool(base as never)).toThrow(/transactionalIdPrefix is required/);
    expect(() => new TransactionalProducerPool({ ...base, transactionalIdPrefix: '' })).toThrow(ConfigError);
  });
  it('transactionalId given: refused, the pool names its producers', () => {
    expect(() => new TransactionalProducerPool({ ...base, transactionalIdPrefix: 'p', transactionalId: 'x' } as never)).toThrow(/transactionalId is not a pool option/);
  });
  it('a misspelt producer option: refused at once, with the name meant', () => {
    expect(() => new TransactionalProducerPool({ ...base, transactionalIdPrefix: 'p', lingerMS: 5 } as never)).toThrow(/unknown producer option "lingerMS" \(did you mean lingerMs\?\)/);
  });
});
