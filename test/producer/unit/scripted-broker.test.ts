/**
 * The deterministic test layer tested on its own, without the producer: the fake clock's
 * order of tasks, and a scripted cluster driven through its channels directly. The
 * producer tests trust these helpers; these tests are why they may.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError, RequestTimeoutError, UnsupportedVersionError } from '../../../src/errors.js';
import type { AnyApi, RequestOf, ResponseOf } from '../../../src/protocol/api.js';
import { AddPartitionsToTxn, ApiVersions, EndTxn, FindCoordinator, InitProducerId, Metadata, Produce } from '../../../src/protocol/apis/index.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { encodeRecordBatch, RecordBatchBuilder } from '../../../src/protocol/records/index.js';
import type { BrokerChannel } from '../../../src/producer/broker-channel.js';
import { resolveOptions } from '../../../src/producer/options.js';
import { FAKE_EPOCH, FakeClock } from '../../helpers/fake-clock.js';
import { ScriptedCluster, type ClusterOptions } from '../../helpers/scripted-broker.js';

const REQUEST_TIMEOUT = 500;

function setup(options: ClusterOptions = {}): { clock: FakeClock; cluster: ScriptedCluster; dial: (nodeId?: number) => Promise<BrokerChannel> } {
  const clock = new FakeClock();
  const cluster = new ScriptedCluster(clock, { topics: { t: 2 }, ...options });
  const opts = resolveOptions({ bootstrap: cluster.bootstrap, requestTimeoutMs: REQUEST_TIMEOUT, lingerMs: 0 });
  const dial = (nodeId = 1): Promise<BrokerChannel> => {
    const b = cluster.broker(nodeId);
    return clock.drive(cluster.dial({ host: b.host, port: b.port, nodeId }, opts, new AbortController().signal), 1000);
  };
  return { clock, cluster, dial };
}

interface Stamp {
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
}

/** A Produce request with one batch of `values` for partition `partition` of topic t. */
function produceBody(values: string[], stamp: Stamp = {}, partition = 0, transactionalId: string | null = null): RequestOf<typeof Produce> {
  const records = encodeRecordBatch(
    values.map((value) => ({ key: null, value })),
    { timestamp: FAKE_EPOCH, producerId: stamp.producerId ?? -1n, producerEpoch: stamp.producerEpoch ?? -1, baseSequence: stamp.baseSequence ?? -1, transactional: stamp.transactional },
  );
  return { transactionalId, acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: partition, records }] }] };
}

function partitionAnswer(response: ResponseOf<typeof Produce>): { errorCode: number; baseOffset: bigint } {
  const p = response.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

/** Sends at Produce v11 (topic names), drives the clock, and returns the partition's answer. */
async function produce(clock: FakeClock, ch: BrokerChannel, body: RequestOf<typeof Produce>): Promise<{ errorCode: number; baseOffset: bigint }> {
  return partitionAnswer(await clock.drive(ch.send(Produce, 11, body), 1000));
}

async function call<A extends AnyApi>(clock: FakeClock, ch: BrokerChannel, api: A, body: RequestOf<A>): Promise<ResponseOf<A>> {
  return (await clock.drive(ch.request(api, body), 1000)).response;
}

describe('FakeClock', () => {
  it('runs soon tasks first, then timers by due time and, at equal times, in the order they were set', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimeout(() => order.push('b@10'), 10);
    clock.setTimeout(() => order.push('a@5'), 5);
    clock.setTimeout(() => order.push('c@10'), 10);
    clock.setTimeout(() => order.push('now'), 0);
    clock.soon(() => order.push('soon1'));
    clock.soon(() => order.push('soon2'));
    expect(clock.pendingTimers()).toBe(6);
    await clock.advance(10);
    expect(order).toEqual(['soon1', 'soon2', 'now', 'a@5', 'b@10', 'c@10']);
    expect(clock.now()).toBe(FAKE_EPOCH + 10);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('settles the promise chains a task starts before the next task runs', async () => {
    const clock = new FakeClock();
    let seen = -1;
    let depth = 0;
    clock.setTimeout(() => {
      void (async () => {
        for (let i = 0; i < 100; i++) await Promise.resolve(depth++);
      })();
    }, 1);
    clock.setTimeout(() => (seen = depth), 1);
    await clock.advance(1);
    expect(seen).toBe(100);
  });

  it('only fires what is due; a cleared timer never fires and is not pending', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const h = clock.setTimeout(() => fired.push(1), 5);
    clock.setTimeout(() => fired.push(2), 7);
    clock.clearTimeout(h);
    clock.clearTimeout(h);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(6);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([2]);
    clock.clearTimeout(h);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runUntil stops where the condition first holds; drive returns or throws the outcome', async () => {
    const clock = new FakeClock();
    let n = 0;
    const tick = (): void => {
      n++;
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    expect(await clock.runUntil(() => n === 3, 1000)).toBe(true);
    expect(clock.now()).toBe(FAKE_EPOCH + 30);
    expect(await clock.runUntil(() => n === 1000, 50)).toBe(false);
    expect(clock.now()).toBe(FAKE_EPOCH + 80);
    const later = new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 25));
    expect(await clock.drive(later, 100)).toBe('done');
    await expect(clock.drive(new Promise(() => {}), 20)).rejects.toThrow(/still pending after 20 ms/);
    expect(await clock.settledAfter(new Promise((_, reject) => clock.setTimeout(() => reject(new Error('x')), 7)), 100)).toBe(7);
  });

  it('takes a task that keeps rescheduling itself at the same instant for a busy loop', async () => {
    const clock = new FakeClock();
    clock.maxTasksPerInstant = 50;
    const spin = (): void => clock.soon(spin);
    clock.soon(spin);
    await expect(clock.advance(1)).rejects.toThrow(/busy loop/);
  });
});

describe('ScriptedCluster: connections', () => {
  it('dials after the scripted latency, with an ApiVersions exchange, and counts channels', async () => {
    const { clock, cluster, dial } = setup({ latencyMs: 3, versions: { Produce: { max: 9 }, EndTxn: null } });
    const ch = await dial();
    expect(clock.now()).toBe(FAKE_EPOCH + 3);
    expect(cluster.dials).toBe(1);
    expect(cluster.openChannels()).toBe(1);
    expect(cluster.requestsOf(ApiVersions)).toHaveLength(1);
    expect(ch.versionFor(Produce)).toBe(9);
    expect(ch.versionFor(Produce, 7)).toBe(7);
    expect(ch.versionFor(EndTxn)).toBeUndefined();
    expect(() => ch.requireVersion(EndTxn)).toThrow(UnsupportedVersionError);
    const { response } = await clock.drive(ch.request(ApiVersions, {}), 100);
    expect(response.apiKeys.find((k) => k.apiKey === Produce.key)).toEqual({ apiKey: Produce.key, minVersion: 3, maxVersion: 9 });
    await clock.drive(ch.close(), 100);
    expect(cluster.openChannels()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refused connections fail like ECONNREFUSED; a hung connect ends only when aborted', async () => {
    const { clock, cluster } = setup();
    const opts = resolveOptions({ bootstrap: cluster.bootstrap });
    const target = { host: 'broker-1', port: 9092, nodeId: 1 };
    cluster.refuseConnections(true);
    await expect(clock.drive(cluster.dial(target, opts, new AbortController().signal), 100)).rejects.toThrow(ConnectionError);
    cluster.refuseConnections(false);
    cluster.hangConnects(true);
    const abort = new AbortController();
    const hung = cluster.dial(target, opts, abort.signal);
    hung.catch(() => undefined);
    expect(await clock.runUntil(() => cluster.pendingDials() === 0, 60_000)).toBe(false);
    abort.abort(new Error('closing'));
    await expect(clock.drive(hung, 10)).rejects.toThrow(ConnectionError);
    expect(cluster.dialLog.map((d) => d.outcome)).toEqual(['refused', 'aborted']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a dial to a frozen broker times out at requestTimeoutMs, or completes once thawed', async () => {
    const { clock, cluster, dial } = setup();
    cluster.freeze();
    const started = clock.now();
    await expect(dial()).rejects.toThrow(RequestTimeoutError);
    expect(clock.now() - started).toBe(1 + REQUEST_TIMEOUT);
    const b = cluster.broker(1);
    const pending = cluster.dial({ host: b.host, port: b.port, nodeId: 1 }, resolveOptions({ bootstrap: cluster.bootstrap, requestTimeoutMs: REQUEST_TIMEOUT }), new AbortController().signal);
    await clock.advance(100);
    cluster.thaw();
    const ch = await clock.drive(pending, 10);
    expect(ch.isOpen).toBe(true);
  });

  it('close() waits up to its timeout for answers in flight, then fails the rest', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    const answered = ch.send(Metadata, 12, { topics: [{ name: 't' }] });
    await clock.drive(ch.close(1000), 100);
    await expect(answered).resolves.toMatchObject({ topics: [{ name: 't' }] });
    const ch2 = await dial();
    cluster.freeze();
    const stuck = ch2.send(Metadata, 12, { topics: [{ name: 't' }] });
    stuck.catch(() => undefined);
    expect(ch2.isOpen).toBe(true);
    expect(await clock.settledAfter(ch2.close(50), 1000)).toBe(50);
    expect(ch2.isOpen).toBe(false);
    await expect(stuck).rejects.toThrow(/was closed/);
    await expect(ch2.send(Metadata, 12, { topics: null })).rejects.toThrow(ConnectionError);
    expect(cluster.openChannels()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('ScriptedCluster: metadata', () => {
  it('names every broker and each partition leader, round-robin by default', async () => {
    const { clock, dial } = setup({ brokers: 3, topics: { t: 4, u: { partitions: 1, leaders: [3] } } });
    const ch = await dial(2);
    const md = await call(clock, ch, Metadata, { topics: [{ name: 't' }, { name: 'u' }] });
    expect(md.brokers.map((b) => [b.nodeId, b.host, b.port])).toEqual([
      [1, 'broker-1', 9092],
      [2, 'broker-2', 9092],
      [3, 'broker-3', 9092],
    ]);
    expect(md.topics[0]!.partitions.map((p) => p.leaderId)).toEqual([1, 2, 3, 1]);
    expect(md.topics[1]!.partitions.map((p) => p.leaderId)).toEqual([3]);
    expect(md.topics[0]!.topicId).not.toBe(md.topics[1]!.topicId);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, scripted errors and auto-creation', async () => {
    const { clock, cluster, dial } = setup({ autoCreatePartitions: 3 });
    const ch = await dial();
    const codes = async (names: string[], allowAutoTopicCreation = false): Promise<number[]> =>
      (await call(clock, ch, Metadata, { topics: names.map((name) => ({ name })), allowAutoTopicCreation })).topics.map((t) => t.errorCode);
    expect(await codes(['nope', 'bad name!', 't'])).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.NONE]);
    cluster.setTopicError('t', ErrorCode.LEADER_NOT_AVAILABLE);
    expect(await codes(['t'])).toEqual([ErrorCode.LEADER_NOT_AVAILABLE]);
    expect(await codes(['fresh'], true)).toEqual([ErrorCode.LEADER_NOT_AVAILABLE]);
    expect(await codes(['fresh'])).toEqual([ErrorCode.NONE]);
    expect(cluster.partitionCount('fresh')).toBe(3);
  });
});

describe('ScriptedCluster: produce', () => {
  it('appends a batch and keeps Kafka sequence rules: duplicates, gaps, epochs', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    const pid = 7n;
    expect(await produce(clock, ch, produceBody(['a', 'b'], { producerId: pid, producerEpoch: 0, baseSequence: 10 }))).toEqual({ errorCode: 0, baseOffset: 0n });
    expect(await produce(clock, ch, produceBody(['c'], { producerId: pid, producerEpoch: 0, baseSequence: 12 }))).toEqual({ errorCode: 0, baseOffset: 2n });
    // A retry of the first batch: its original offset, nothing appended.
    expect(await produce(clock, ch, produceBody(['a', 'b'], { producerId: pid, producerEpoch: 0, baseSequence: 10 }))).toEqual({ errorCode: 0, baseOffset: 0n });
    expect(await produce(clock, ch, produceBody(['x'], { producerId: pid, producerEpoch: 0, baseSequence: 20 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(clock, ch, produceBody(['y'], { producerId: pid, producerEpoch: 1, baseSequence: 13 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(clock, ch, produceBody(['d'], { producerId: pid, producerEpoch: 1, baseSequence: 0 }))).toEqual({ errorCode: 0, baseOffset: 3n });
    expect(await produce(clock, ch, produceBody(['z'], { producerId: pid, producerEpoch: 0, baseSequence: 13 }))).toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(cluster.log('t', 0)).toEqual(['a', 'b', 'c', 'd']);
    expect(cluster.partitionLog('t', 0).duplicates).toBe(1);
    expect(cluster.violations).toEqual([]);
  });

  it('forgets all but the last five batches of a producer', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    for (let i = 0; i < 6; i++) await produce(clock, ch, produceBody([`v${i}`], { producerId: 1n, producerEpoch: 0, baseSequence: i }));
    expect(await produce(clock, ch, produceBody(['v1'], { producerId: 1n, producerEpoch: 0, baseSequence: 1 }))).toEqual({ errorCode: 0, baseOffset: 1n });
    expect(await produce(clock, ch, produceBody(['v0'], { producerId: 1n, producerEpoch: 0, baseSequence: 0 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(cluster.log('t', 0)).toHaveLength(6);
  });

  it('takes batches built with RecordBatchBuilder, at Produce v13 with topic ids', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    const md = await call(clock, ch, Metadata, { topics: [{ name: 't' }] });
    const builder = new RecordBatchBuilder(Buffer.alloc(256), { clock: () => clock.now() });
    for (const value of ['one', 'two', 'three']) builder.append({ key: 'k', value });
    const records = builder.finish({ producerId: 3n, producerEpoch: 0, baseSequence: 0 });
    const response = await clock.drive(ch.send(Produce, 13, { acks: -1, timeoutMs: 1000, topicData: [{ topicId: md.topics[0]!.topicId, partitionData: [{ index: 1, records }] }] }), 100);
    expect(response.responses[0]!.topicId).toBe(md.topics[0]!.topicId);
    expect(partitionAnswer(response)).toEqual({ errorCode: 0, baseOffset: 0n });
    expect(cluster.log('t', 1)).toEqual(['one', 'two', 'three']);
    expect(cluster.requestsOf(Produce)[0]!.partitions).toEqual([{ topic: 't', partition: 1 }]);
  });

  it('answers NOT_LEADER_OR_FOLLOWER with the new leader once leadership moved', async () => {
    const { clock, cluster, dial } = setup({ brokers: 2 });
    const ch = await dial(1);
    cluster.moveLeader('t', 0, 2);
    const response = await clock.drive(ch.send(Produce, 11, produceBody(['a'])), 100);
    expect(response.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: 2, leaderEpoch: 1 } });
    expect(response.nodeEndpoints).toEqual([{ nodeId: 2, host: 'broker-2', port: 9092, rack: null }]);
    expect(cluster.log('t', 0)).toEqual([]);
  });

  it('answers each channel in request order', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    cluster.broker(1).latencyMs = 5;
    const first = ch.send(Produce, 11, produceBody(['a']));
    cluster.broker(1).latencyMs = 1;
    const second = ch.send(Produce, 11, produceBody(['b']));
    const order: string[] = [];
    void first.then(() => order.push('first'));
    void second.then(() => order.push('second'));
    await clock.drive(Promise.all([first, second]), 100);
    expect(order).toEqual(['first', 'second']);
    expect(cluster.log('t', 0)).toEqual(['a', 'b']);
  });

  it('acks=0: nothing to wait for, the records are still written', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    await expect(ch.send(Produce, 11, { ...produceBody(['a']), acks: 0 }, { expectResponse: false })).resolves.toBeUndefined();
    await clock.advance(5);
    expect(cluster.log('t', 0)).toEqual(['a']);
  });
});

describe('ScriptedCluster: scripted faults', () => {
  it('an error code per partition, written or not', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    cluster.script(Produce, { errorCode: ErrorCode.NOT_ENOUGH_REPLICAS }, { errorCode: ErrorCode.REQUEST_TIMED_OUT, written: true });
    expect(await produce(clock, ch, produceBody(['a']))).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
    expect(await produce(clock, ch, produceBody(['b']))).toMatchObject({ errorCode: ErrorCode.REQUEST_TIMED_OUT });
    cluster.onRequest = (req) => (req.api === Produce ? { errorCode: (_, partition) => (partition === 1 ? ErrorCode.NOT_ENOUGH_REPLICAS : undefined) } : undefined);
    expect(await produce(clock, ch, produceBody(['c'], {}, 1))).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
    expect(await produce(clock, ch, produceBody(['d'], {}, 0))).toMatchObject({ errorCode: 0 });
    expect(cluster.log('t', 0)).toEqual(['b', 'd']);
    expect(cluster.log('t', 1)).toEqual([]);
  });

  it('lose-answer: written, then the request times out at requestTimeoutMs and the channel closes', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    cluster.script(Produce, 'lose-answer');
    const body = produceBody(['a'], { producerId: 1n, producerEpoch: 0, baseSequence: 0 });
    const lost = ch.send(Produce, 11, body);
    const behind = ch.send(Metadata, 12, { topics: null });
    behind.catch(() => undefined);
    const start = clock.now();
    await expect(clock.drive(lost, 10_000)).rejects.toThrow(RequestTimeoutError);
    expect(clock.now() - start).toBe(REQUEST_TIMEOUT);
    await expect(behind).rejects.toThrow(/closed after a request timed out/);
    expect(ch.isOpen).toBe(false);
    expect(cluster.openChannels()).toBe(0);
    expect(cluster.log('t', 0)).toEqual(['a']);
    // The producer's retry on a new connection is a duplicate.
    const ch2 = await dial();
    expect(await produce(clock, ch2, body)).toEqual({ errorCode: 0, baseOffset: 0n });
    expect(cluster.log('t', 0)).toEqual(['a']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('disconnect: not written, the channel drops with a ConnectionError', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    cluster.script(Produce, 'disconnect');
    await expect(clock.drive(ch.send(Produce, 11, produceBody(['a'])), 100)).rejects.toThrow(ConnectionError);
    expect(cluster.openChannels()).toBe(0);
    expect(cluster.log('t', 0)).toEqual([]);
  });

  it('freeze: requests wait unanswered and time out; thawing writes them, answers only to open channels', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    cluster.freeze();
    const lost = ch.send(Produce, 11, produceBody(['a']));
    await expect(clock.drive(lost, 10_000)).rejects.toThrow(RequestTimeoutError);
    expect(cluster.log('t', 0)).toEqual([]);
    cluster.thaw();
    await clock.advance(1);
    expect(cluster.log('t', 0)).toEqual(['a']);
    const ch2 = await dial();
    cluster.freeze();
    const held = ch2.send(Produce, 11, produceBody(['b']));
    await clock.advance(100);
    cluster.thaw();
    expect(partitionAnswer(await clock.drive(held, 10))).toEqual({ errorCode: 0, baseOffset: 1n });
  });

  it('a body the version cannot carry throws at send, as encoding does on the real connection', async () => {
    const { dial } = setup();
    const ch = await dial();
    expect(() => ch.send(InitProducerId, 2, { transactionalId: null, transactionTimeoutMs: 1, producerId: 5n })).toThrow(UnsupportedVersionError);
  });
});

describe('ScriptedCluster: transactions v1', () => {
  async function initTxn(clock: FakeClock, ch: BrokerChannel): Promise<{ producerId: bigint; producerEpoch: number }> {
    const found = await call(clock, ch, FindCoordinator, { keyType: 1, coordinatorKeys: ['tx'] });
    expect(found.coordinators[0]).toMatchObject({ key: 'tx', nodeId: 1, errorCode: 0 });
    const init = await call(clock, ch, InitProducerId, { transactionalId: 'tx', transactionTimeoutMs: 60_000 });
    expect(init.errorCode).toBe(0);
    return init;
  }

  function addBody(id: { producerId: bigint; producerEpoch: number }, partition = 0): RequestOf<typeof AddPartitionsToTxn> {
    return { v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: id.producerId, v3AndBelowProducerEpoch: id.producerEpoch, v3AndBelowTopics: [{ name: 't', partitions: [partition] }] };
  }

  function endBody(id: { producerId: bigint; producerEpoch: number }, committed: boolean): RequestOf<typeof EndTxn> {
    return { transactionalId: 'tx', producerId: id.producerId, producerEpoch: id.producerEpoch, committed };
  }

  it('verifies partitions were added, and commit or abort decides what read_committed sees', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    const id = await initTxn(clock, ch);
    const stamp = { producerId: id.producerId, producerEpoch: id.producerEpoch, transactional: true };
    expect(await produce(clock, ch, produceBody(['early'], { ...stamp, baseSequence: 0 }, 0, 'tx'))).toMatchObject({ errorCode: ErrorCode.INVALID_TXN_STATE });
    const added = await call(clock, ch, AddPartitionsToTxn, addBody(id));
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition).toEqual([{ partitionIndex: 0, partitionErrorCode: 0 }]);
    expect(await produce(clock, ch, produceBody(['kept'], { ...stamp, baseSequence: 0 }, 0, 'tx'))).toMatchObject({ errorCode: 0 });
    expect(cluster.committed('t', 0)).toEqual([]);
    expect((await call(clock, ch, EndTxn, endBody(id, true))).errorCode).toBe(0);
    // A retried commit whose answer was lost succeeds; a different outcome does not.
    expect((await call(clock, ch, EndTxn, endBody(id, true))).errorCode).toBe(0);
    expect((await call(clock, ch, EndTxn, endBody(id, false))).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    await call(clock, ch, AddPartitionsToTxn, addBody(id));
    await produce(clock, ch, produceBody(['dropped'], { ...stamp, baseSequence: 1 }, 0, 'tx'));
    expect((await call(clock, ch, EndTxn, endBody(id, false))).errorCode).toBe(0);
    expect(cluster.log('t', 0)).toEqual(['kept', 'dropped']);
    expect(cluster.committed('t', 0)).toEqual(['kept']);
    expect(cluster.transactions.get('tx')!.outcomes).toEqual(['commit', 'abort']);
    expect(cluster.violations).toEqual([]);
  });

  it('fence(): the old epoch is refused by the coordinator and by the partitions of its transaction', async () => {
    const { clock, cluster, dial } = setup();
    const ch = await dial();
    const id = await initTxn(clock, ch);
    await call(clock, ch, AddPartitionsToTxn, addBody(id));
    const stamp = { producerId: id.producerId, producerEpoch: id.producerEpoch, transactional: true };
    await produce(clock, ch, produceBody(['a'], { ...stamp, baseSequence: 0 }, 0, 'tx'));
    cluster.fence('tx');
    expect(cluster.committed('t', 0)).toEqual([]);
    expect(await produce(clock, ch, produceBody(['b'], { ...stamp, baseSequence: 1 }, 0, 'tx'))).toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect((await call(clock, ch, EndTxn, endBody(id, true))).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    const reInit = await call(clock, ch, InitProducerId, { transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: id.producerId, producerEpoch: id.producerEpoch });
    expect(reInit.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('a broker that is not the coordinator says so', async () => {
    const { clock, dial } = setup({ brokers: 2, coordinator: 2 });
    const ch = await dial(1);
    const found = await call(clock, ch, FindCoordinator, { keyType: 1, coordinatorKeys: ['tx'] });
    expect(found.coordinators[0]).toMatchObject({ nodeId: 2, host: 'broker-2' });
    expect((await call(clock, ch, InitProducerId, { transactionalId: 'tx', transactionTimeoutMs: 1000 })).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });
});
