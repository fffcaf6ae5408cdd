/**
 * The transaction state machine (src/producer/transactions.ts) driven through the public
 * API against a scripted cluster with transactions v1: each state, what a call does in
 * it, and what a broker's answer moves it to. The state is sampled after every call and
 * every task of the fake clock; the last test checks that each change seen is one
 * TRANSITIONS allows (or a path of them, where several happened between two samples)
 * and that every move reachable from the API was seen.
 */
import { describe, expect, it } from 'vitest';
import { BrokerError, ProducerFencedError, TransactionAbortableError, TransactionAbortedError, TransactionStateError } from '../../../src/index.js';
import { AddOffsetsToTxn, AddPartitionsToTxn, EndTxn, InitProducerId, Produce, TxnOffsetCommit } from '../../../src/protocol/apis/index.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { TRANSITIONS, type TransactionState } from '../../../src/producer/transactions.js';
import { closeWithin, expectNothingLeft, scripted, type Scripted } from '../../helpers/producer-harness.js';

/** Every state change observed in this file, as `from -> to`. */
const seen = new Set<string>();

/** A transactional producer whose state is sampled after every task its clock runs. */
function transactional(
  options: Parameters<typeof scripted>[0] = {},
  cluster: Parameters<typeof scripted>[1] = {},
): Scripted & { run<T>(p: Promise<T>, maxMs?: number): Promise<T>; state(): TransactionState } {
  const s = scripted({ transactionalId: 'tx', ...options }, cluster);
  let last: TransactionState = s.producer.transactionState!;
  const sample = (): void => {
    const now = s.producer.transactionState!;
    if (now !== last) seen.add(`${last} -> ${now}`);
    last = now;
  };
  return {
    ...s,
    state: () => {
      sample();
      return last;
    },
    async run<T>(p: Promise<T>, maxMs = 10_000): Promise<T> {
      sample();
      const settled = p.then(
        (v) => ({ ok: true as const, v }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      let outcome: Awaited<typeof settled> | undefined;
      void settled.then((o) => (outcome = o));
      await s.clock.runUntil(() => (sample(), outcome !== undefined), maxMs);
      if (!outcome) throw new Error(`still pending after ${maxMs} ms of fake time, in state ${last}`);
      if (!outcome.ok) throw outcome.e;
      return outcome.v;
    },
  };
}

type Txn = ReturnType<typeof transactional>;

async function ready(options: Parameters<typeof scripted>[0] = {}, cluster: Parameters<typeof scripted>[1] = {}): Promise<Txn> {
  const s = transactional(options, cluster);
  await s.run(s.producer.initTransactions());
  expect(s.state()).toBe('ready');
  return s;
}

async function inTransaction(options: Parameters<typeof scripted>[0] = {}, cluster: Parameters<typeof scripted>[1] = {}): Promise<Txn> {
  const s = await ready(options, cluster);
  s.producer.beginTransaction();
  expect(s.state()).toBe('in-transaction');
  return s;
}

/** In a transaction that has written 'a' to t-0: the coordinator knows of it. */
async function withRecordSent(): Promise<Txn> {
  const s = await inTransaction();
  s.sends.produce({ topic: 't', partition: 0, value: 'a' });
  await s.run(s.producer.flush());
  return s;
}

/** What a call made now throws or rejects with (undefined when it succeeds). */
async function failureOf(s: Txn, call: () => unknown): Promise<unknown> {
  try {
    const result = call();
    if (result instanceof Promise) await s.run(result);
  } catch (err) {
    return err;
  }
  return undefined;
}

/** produce, send, begin, commit and abort all refused with `cls`, and the state unchanged. */
async function expectAllRefused(s: Txn, cls: new (...args: never[]) => Error): Promise<void> {
  const state = s.state();
  expect(() => s.producer.produce({ topic: 't', value: 'v' })).toThrow(cls);
  expect(await failureOf(s, () => s.producer.send({ topic: 't', value: 'v' }))).toBeInstanceOf(cls);
  expect(() => s.producer.beginTransaction()).toThrow(cls);
  expect(await failureOf(s, () => s.producer.commitTransaction())).toBeInstanceOf(cls);
  expect(await failureOf(s, () => s.producer.abortTransaction())).toBeInstanceOf(cls);
  expect(s.state()).toBe(state);
}

async function finish(s: Txn): Promise<void> {
  await closeWithin(s, 1000);
  await expectNothingLeft(s);
}

describe('uninitialized', () => {
  it('refuses send, begin, commit and abort with TransactionStateError', async () => {
    const s = transactional();
    expect(s.state()).toBe('uninitialized');
    expect(s.producer.transactionVersion).toBeUndefined();
    await expectAllRefused(s, TransactionStateError);
    await finish(s);
  });

  it('initTransactions(): initializing, then ready with a producer id from the coordinator; a second call is refused', async () => {
    const s = transactional();
    const init = s.producer.initTransactions();
    expect(s.state()).toBe('initializing');
    await s.run(init);
    expect(s.state()).toBe('ready');
    expect(s.producer.transactionVersion).toBe(1);
    expect(s.cluster.requestsOf(InitProducerId).map((r) => r.body.transactionalId)).toEqual(['tx']);
    const again = await failureOf(s, () => s.producer.initTransactions());
    expect(again).toBeInstanceOf(TransactionStateError);
    expect((again as Error).message).toBe('initTransactions is not allowed while the transaction is ready: transactions are initialized already (once per producer)');
    await finish(s);
  });

  it('initTransactions() retries what the coordinator says to retry', async () => {
    const s = transactional();
    s.cluster.script(InitProducerId, { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS }, { errorCode: ErrorCode.NOT_COORDINATOR });
    await s.run(s.producer.initTransactions());
    expect(s.state()).toBe('ready');
    expect(s.cluster.requestsOf(InitProducerId)).toHaveLength(3);
    await finish(s);
  });

  it('initTransactions() that cannot reach the cluster fails and goes back to uninitialized; a later call succeeds', async () => {
    const s = transactional({ maxBlockMs: 1000 });
    s.cluster.refuseConnections(true);
    expect(await failureOf(s, () => s.producer.initTransactions())).toBeDefined();
    expect(s.state()).toBe('uninitialized');
    s.cluster.refuseConnections(false);
    await s.run(s.producer.initTransactions());
    expect(s.state()).toBe('ready');
    await finish(s);
  });

  it('initTransactions() fenced by the coordinator: fatal', async () => {
    const s = transactional();
    s.cluster.script(InitProducerId, { errorCode: ErrorCode.PRODUCER_FENCED });
    expect(await failureOf(s, () => s.producer.initTransactions())).toBeInstanceOf(ProducerFencedError);
    expect(s.state()).toBe('fatal-error');
    await finish(s);
  });
});

describe('ready and in-transaction', () => {
  it('beginTransaction() once; send before it is refused', async () => {
    const s = await ready();
    expect(() => s.producer.produce({ topic: 't', value: 'v' })).toThrow(TransactionStateError);
    expect(await failureOf(s, () => s.producer.commitTransaction())).toBeInstanceOf(TransactionStateError);
    s.producer.beginTransaction();
    expect(s.state()).toBe('in-transaction');
    expect(() => s.producer.beginTransaction()).toThrow(TransactionStateError);
    await finish(s);
  });

  it('commit: partitions added before their records, committing, then ready; read_committed sees the records', async () => {
    const s = await inTransaction();
    s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    s.sends.produce({ topic: 't', partition: 1, value: 'b' });
    const commit = s.producer.commitTransaction();
    expect(s.state()).toBe('committing');
    await s.run(commit);
    expect(s.state()).toBe('ready');
    const first = (api: { name: string }): number => s.cluster.requestsOf(api.name)[0]!.seq;
    expect(first(AddPartitionsToTxn)).toBeLessThan(first(Produce));
    expect(s.cluster.requestsOf(EndTxn).map((r) => r.body.committed)).toEqual([true]);
    expect([s.cluster.committed('t', 0), s.cluster.committed('t', 1)]).toEqual([['a'], ['b']]);
    expect(s.sends.errorNames()).toEqual([]);
    await finish(s);
  });

  it('commit with nothing sent: no EndTxn, ready again', async () => {
    const s = await inTransaction();
    await s.run(s.producer.commitTransaction());
    expect(s.state()).toBe('ready');
    expect(s.cluster.requestsOf(EndTxn)).toHaveLength(0);
    await finish(s);
  });

  it('commit whose EndTxn answer is lost: retried, committed once', async () => {
    const s = await inTransaction({ requestTimeoutMs: 1000 });
    s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    s.cluster.script(EndTxn, 'lose-answer');
    await s.run(s.producer.commitTransaction(), 20_000);
    expect(s.state()).toBe('ready');
    expect(s.cluster.requestsOf(EndTxn).length).toBeGreaterThanOrEqual(2);
    expect(s.cluster.transactions.get('tx')!.outcomes).toEqual(['commit']);
    expect(s.cluster.committed('t', 0)).toEqual(['a']);
    await finish(s);
  });

  it('abort: records not yet sent fail with TransactionAbortedError, sent ones are aborted by the coordinator; ready again', async () => {
    const s = await inTransaction({ lingerMs: 60_000, deliveryTimeoutMs: 120_000 });
    const sent = s.sends.produce({ topic: 't', partition: 0, value: 'sent' });
    await s.run(s.producer.flush());
    const lingering = [s.sends.produce({ topic: 't', partition: 0, value: 'l1' }), s.sends.produce({ topic: 't', partition: 1, value: 'l2' })];
    const abort = s.producer.abortTransaction();
    expect(s.state()).toBe('aborting');
    await s.run(abort);
    expect(s.state()).toBe('ready');
    expect(sent.error).toBeUndefined();
    for (const o of lingering) expect(o.error).toBeInstanceOf(TransactionAbortedError);
    expect(s.cluster.log('t', 0)).toEqual(['sent']);
    expect(s.cluster.committed('t', 0)).toEqual([]);
    expect(s.cluster.transactions.get('tx')!.outcomes).toEqual(['abort']);
    await finish(s);
  });

  // A sendBatch() bigger than the memory budget takes its records in as memory frees.
  const TIGHT = { bufferMemory: 8 * 1024, batchSize: 1024, maxBatchSize: 1024, lingerMs: 0 };
  const bigBatch = (s: Txn, n: number): { values: string[]; outcome: Promise<unknown> } => {
    const values = Array.from({ length: n }, (_, i) => `${i}`.padEnd(900, '.'));
    const sent = s.producer.sendBatch(values.map((value) => ({ topic: 't', partition: 0, value })));
    return { values, outcome: sent.then(() => undefined, (e: unknown) => e) };
  };

  it('commit while a big sendBatch() is still taking records in: it waits, and commits all of them', async () => {
    const s = await inTransaction(TIGHT);
    const { values, outcome } = bigBatch(s, 60);
    await s.run(s.producer.commitTransaction());
    expect(s.cluster.committed('t', 0)).toEqual(values);
    expect(await s.run(outcome)).toBeUndefined();
    await closeWithin(s, 1000);
  });

  it('abort while a big sendBatch() is taking records in: the rest never go out, not even with the next transaction', async () => {
    const s = await inTransaction(TIGHT);
    const { outcome } = bigBatch(s, 60);
    await s.clock.advance(5);
    await s.run(s.producer.abortTransaction());
    s.producer.beginTransaction();
    s.sends.produce({ topic: 't', partition: 0, value: 'next' });
    await s.run(s.producer.commitTransaction());
    expect(await s.run(outcome)).toBeInstanceOf(TransactionAbortedError);
    expect(s.cluster.committed('t', 0)).toEqual(['next']);
    expect(s.cluster.log('t', 0).length, 'written: the next record and what went out before the abort').toBeLessThan(1 + 60);
    await closeWithin(s, 1000);
  });

  it('offsets sent to the transaction: AddOffsetsToTxn, TxnOffsetCommit, committed with it', async () => {
    const s = await inTransaction();
    s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    await s.run(s.producer.sendOffsetsToTransaction([{ topic: 'in', partition: 3, offset: 42n }], { groupId: 'g' }));
    expect(s.cluster.requestsOf(AddOffsetsToTxn)[0]!.seq).toBeLessThan(s.cluster.requestsOf(TxnOffsetCommit)[0]!.seq);
    expect(s.cluster.offsets.get('g')).toBeUndefined();
    await s.run(s.producer.commitTransaction());
    expect(s.cluster.offsets.get('g')).toEqual(new Map([['in-3', 42n]]));
    await finish(s);
  });

  it('transaction(fn): commits when fn resolves, aborts and rethrows when it throws', async () => {
    const s = transactional();
    await s.run(
      s.producer.transaction(async (p) => {
        s.sends.produce({ topic: 't', partition: 0, value: 'kept' });
        await p.flush();
      }),
    );
    const boom = new Error('boom');
    const failed = failureOf(s, () =>
      s.producer.transaction(async (p) => {
        s.sends.produce({ topic: 't', partition: 0, value: 'aborted' });
        await p.flush();
        throw boom;
      }),
    );
    expect(await failed).toBe(boom);
    expect(s.state()).toBe('ready');
    expect(s.cluster.log('t', 0)).toEqual(['kept', 'aborted']);
    expect(s.cluster.committed('t', 0)).toEqual(['kept']);
    expect(s.cluster.transactions.get('tx')!.outcomes).toEqual(['commit', 'abort']);
    await finish(s);
  });
});
  it('transaction() while one is under way on the producer: refused, saying one at a time and naming the pool', async () => {
    const s = transactional();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = s.producer.transaction(async () => held);
    await s.clock.runUntil(() => s.state() === 'in-transaction', 5000);
    const second = await failureOf(s, () => s.producer.transaction(async () => undefined));
    expect(second).toBeInstanceOf(TransactionStateError);
    expect((second as Error).message).toMatch(/^transaction\(\) is not allowed while the transaction is in-transaction: a producer runs one transaction at a time.*TransactionalProducerPool/);
    release();
    await s.run(first);
    expect(s.state()).toBe('ready');
    await finish(s);
  });

  it('transaction(fn) whose fn commits itself: the record is committed, and the error says to leave the commit to transaction()', async () => {
    const s = transactional();
    const outcome = await failureOf(s, () =>
      s.producer.transaction(async (p) => {
        s.sends.produce({ topic: 't', partition: 0, value: 'self-committed' });
        await p.commitTransaction();
      }),
    );
    expect(outcome).toBeInstanceOf(TransactionStateError);
    expect((outcome as Error).message).toMatch(/fn ended the transaction itself .* leave both to it/);
    expect(s.cluster.committed('t', 0)).toEqual(['self-committed']);
    expect(s.state()).toBe('ready');
    await finish(s);
  });


describe('abortable-error', () => {
  /** In a transaction whose record failed for good (the broker refused it as invalid). */
  async function failedRecord(options: Parameters<typeof scripted>[0] = {}): Promise<Txn> {
    const s = await inTransaction(options);
    s.cluster.script(Produce, { errorCode: ErrorCode.INVALID_RECORD });
    const o = s.sends.produce({ topic: 't', partition: 0, value: 'refused' });
    await s.run(s.producer.flush());
    expect(o.error).toBeInstanceOf(BrokerError);
    expect(s.state()).toBe('abortable-error');
    return s;
  }

  it('a record that fails: only abort gets out; send, commit and begin say why', async () => {
    const s = await failedRecord();
    expect(() => s.producer.produce({ topic: 't', value: 'v' })).toThrow(TransactionAbortableError);
    expect(await failureOf(s, () => s.producer.commitTransaction())).toBeInstanceOf(TransactionAbortableError);
    expect(() => s.producer.beginTransaction()).toThrow(TransactionAbortableError);
    expect(s.state()).toBe('abortable-error');
    await s.run(s.producer.abortTransaction());
    expect(s.state()).toBe('ready');
    await finish(s);
  });

  it('after the abort, with a new epoch (a sent batch failed), the next transaction commits', async () => {
    const s = await failedRecord();
    await s.run(s.producer.abortTransaction());
    const inits = s.cluster.requestsOf(InitProducerId);
    expect(inits).toHaveLength(2);
    // KIP-360: the producer names its id and epoch, and the coordinator bumps the epoch.
    expect(inits[1]!.body).toMatchObject({ transactionalId: 'tx', producerId: s.cluster.transactions.get('tx')!.producerId, producerEpoch: 0 });
    s.producer.beginTransaction();
    s.sends.produce({ topic: 't', partition: 0, value: 'committed' });
    await s.run(s.producer.commitTransaction());
    expect(s.cluster.committed('t', 0)).toEqual(['committed']);
    expect(s.cluster.transactions.get('tx')!.epoch).toBe(1);
    await finish(s);
  });

  it('the new epoch an abort needs cannot be had in time: abortable-error, and a second abort gets it', async () => {
    const s = await failedRecord({ maxBlockMs: 1000 });
    let unavailable = true;
    s.cluster.onRequest = (req) => (req.api === InitProducerId && unavailable ? { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE } : undefined);
    expect(await failureOf(s, () => s.producer.abortTransaction())).toBeDefined();
    expect(s.state()).toBe('abortable-error');
    unavailable = false;
    await s.run(s.producer.abortTransaction());
    expect(s.state()).toBe('ready');
    expect(s.cluster.transactions.get('tx')!.epoch).toBe(1);
    await finish(s);
  });

  it('a commit the coordinator refuses (INVALID_TXN_STATE): abortable, and abort works', async () => {
    const s = await inTransaction();
    s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    s.cluster.script(EndTxn, { errorCode: ErrorCode.INVALID_TXN_STATE });
    expect(await failureOf(s, () => s.producer.commitTransaction())).toBeInstanceOf(TransactionAbortableError);
    expect(s.state()).toBe('abortable-error');
    await s.run(s.producer.abortTransaction());
    expect(s.state()).toBe('ready');
    expect(s.cluster.committed('t', 0)).toEqual([]);
    await finish(s);
  });

  it('an abort the coordinator refuses leaves a way out: abortable-error to abort again, or fatal-error', async () => {
    const s = await withRecordSent();
    s.cluster.script(EndTxn, { errorCode: ErrorCode.INVALID_TXN_STATE });
    expect(await failureOf(s, () => s.producer.abortTransaction())).toBeDefined();
    expect(['abortable-error', 'fatal-error']).toContain(s.state());
    if (s.state() === 'abortable-error') {
      await s.run(s.producer.abortTransaction());
      expect(s.state()).toBe('ready');
    }
    await finish(s);
  });

  it('adding a partition refused: its records fail, the transaction is abortable', async () => {
    const s = await inTransaction();
    s.cluster.script(AddPartitionsToTxn, { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
    const o = s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    await s.run(s.producer.flush());
    expect(o.error).toBeDefined();
    expect(s.state()).toBe('abortable-error');
    expect(s.cluster.log('t', 0)).toEqual([]);
    await s.run(s.producer.abortTransaction());
    expect(s.state()).toBe('ready');
    await finish(s);
  });
});

describe('timed out by the coordinator (KIP-588)', () => {
  it('the next send is refused for its old epoch: abortable; the abort asks for a new epoch instead of an EndTxn at the old one, which a v1 coordinator refuses: fenced', async () => {
    const s = await withRecordSent();
    s.cluster.timeOut('tx');
    const late = s.sends.produce({ topic: 't', partition: 0, value: 'late' });
    await s.run(s.producer.flush());
    expect(late.error).toBeInstanceOf(TransactionAbortableError);
    expect((late.error as Error).message).toMatch(/refused producer epoch 0: .*another producer with the same transactional id.*transactionTimeoutMs.*abort the transaction/);
    expect(s.state()).toBe('abortable-error');
    const inits = s.cluster.requestsOf(InitProducerId).length;
    const ends = s.cluster.requestsOf(EndTxn).length;
    expect(await failureOf(s, () => s.producer.abortTransaction())).toBeInstanceOf(ProducerFencedError);
    expect(s.cluster.requestsOf(InitProducerId).slice(inits).map((r) => r.body.producerEpoch)).toEqual([0]);
    expect(s.cluster.requestsOf(EndTxn)).toHaveLength(ends);
    expect(s.state()).toBe('fatal-error');
    expect(s.cluster.committed('t', 0)).toEqual([]);
    await finish(s);
  });
});

describe('fatal-error', () => {
  /** Everything after fencing fails with ProducerFencedError; close() still cleans up. */
  async function expectFenced(s: Txn): Promise<void> {
    expect(s.state()).toBe('fatal-error');
    await expectAllRefused(s, ProducerFencedError);
    await finish(s);
  }

  it('fenced while sending: the Produce answer (an old epoch) makes the transaction abortable, and the abort finds the producer fenced', async () => {
    const s = await withRecordSent();
    s.cluster.fence('tx');
    const o = s.sends.produce({ topic: 't', partition: 0, value: 'b' });
    await s.run(s.producer.flush());
    // KIP-588: the leader cannot tell a takeover from a timeout; the coordinator can.
    expect(o.error).toBeInstanceOf(TransactionAbortableError);
    expect(s.state()).toBe('abortable-error');
    expect(await failureOf(s, () => s.producer.abortTransaction())).toBeInstanceOf(ProducerFencedError);
    await expectFenced(s);
  });

  it('a Produce answer of PRODUCER_FENCED is fatal at once', async () => {
    const s = await withRecordSent();
    s.cluster.script(Produce, { errorCode: ErrorCode.PRODUCER_FENCED });
    const o = s.sends.produce({ topic: 't', partition: 0, value: 'b' });
    await s.run(s.producer.flush());
    expect(o.error).toBeInstanceOf(ProducerFencedError);
    await expectFenced(s);
  });

  it('fenced at commit: EndTxn says PRODUCER_FENCED', async () => {
    const s = await withRecordSent();
    s.cluster.fence('tx');
    expect(await failureOf(s, () => s.producer.commitTransaction())).toBeInstanceOf(ProducerFencedError);
    expect(s.cluster.committed('t', 0)).toEqual([]);
    await expectFenced(s);
  });

  it('fenced at abort, after a record failed', async () => {
    const s = await withRecordSent();
    s.cluster.script(Produce, { errorCode: ErrorCode.INVALID_RECORD });
    s.sends.produce({ topic: 't', partition: 1, value: 'refused' });
    await s.run(s.producer.flush());
    expect(s.state()).toBe('abortable-error');
    s.cluster.fence('tx');
    expect(await failureOf(s, () => s.producer.abortTransaction())).toBeInstanceOf(ProducerFencedError);
    await expectFenced(s);
  });

  it('fenced while abortable: an answer still in flight says PRODUCER_FENCED', async () => {
    const s = await inTransaction({}, { brokers: 2 });
    // t-0 is led by broker 1, t-1 by broker 2, whose answer comes later.
    s.cluster.broker(2).latencyMs = 20;
    s.cluster.onRequest = (req) => (req.api === Produce ? { errorCode: req.nodeId === 1 ? ErrorCode.INVALID_RECORD : ErrorCode.PRODUCER_FENCED } : undefined);
    const refused = s.sends.produce({ topic: 't', partition: 0, value: 'refused' });
    const fenced = s.sends.produce({ topic: 't', partition: 1, value: 'fenced' });
    await s.run(s.producer.flush());
    expect(refused.error).toBeInstanceOf(BrokerError);
    expect(fenced.error).toBeInstanceOf(ProducerFencedError);
    expect(seen).toContain('abortable-error -> fatal-error');
    await expectFenced(s);
  });

  it('unsent records of a fenced producer fail with ProducerFencedError', async () => {
    const s = await inTransaction({ lingerMs: 60_000, deliveryTimeoutMs: 120_000 });
    s.sends.produce({ topic: 't', partition: 0, value: 'a' });
    await s.run(s.producer.flush());
    s.cluster.fence('tx');
    const lingering = s.sends.produce({ topic: 't', partition: 1, value: 'never sent' });
    expect(await failureOf(s, () => s.producer.commitTransaction())).toBeInstanceOf(ProducerFencedError);
    expect(lingering.error).toBeInstanceOf(ProducerFencedError);
    await expectFenced(s);
  });
});

describe('the state machine as a whole', () => {
  /** Moves TRANSITIONS allows that the public API cannot make against a v1 coordinator. */
  const UNREACHABLE: Record<string, string> = {
    'uninitialized -> fatal-error': 'initTransactions() moves to initializing before any answer can be fatal',
    'ready -> initializing': 'only transactions v2 re-initializes from ready',
    'ready -> fatal-error': 'nothing talks to the coordinator between transactions',
  };

  /** Whether TRANSITIONS leads from `from` to `to` in one or more moves. */
  function reachable(from: TransactionState, to: TransactionState): boolean {
    const queue = [...TRANSITIONS[from]];
    const visited = new Set(queue);
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (next === to) return true;
      for (const n of TRANSITIONS[next]) if (!visited.has(n)) visited.add(n), queue.push(n);
    }
    return false;
  }

  it('no state change outside TRANSITIONS was seen, and every reachable one was', () => {
    const allowed = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`));
    const impossible = [...seen].filter((t) => !reachable(...(t.split(' -> ') as [TransactionState, TransactionState])));
    expect(impossible, 'state changes no path of TRANSITIONS allows').toEqual([]);
    const missing = allowed.filter((t) => !seen.has(t) && !(t in UNREACHABLE));
    expect(missing, 'allowed state changes no test made').toEqual([]);
  });
});
