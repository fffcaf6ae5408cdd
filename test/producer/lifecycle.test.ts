/**
 * The producer's life cycle when things go wrong: close() against a broker that is frozen
 * (while connecting, or with requests out), what a closed producer still does (nothing:
 * no second callback, no dial, no socket or timer), AbortSignals while waiting for
 * metadata or inside an unsent batch, a send that waits (missing topic, partition beyond
 * the count) holding back nobody else, topic names the broker refuses, reconnect backoff
 * and the error an unreachable cluster gives, errors that say whether a record may have
 * been written, bounded memory for a caller that ignores backpressure, and one error
 * class per meaning in transactions.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  BrokerError,
  BufferFullError,
  ConfigError,
  ConnectionError,
  InvalidTopicError,
  Producer,
  ProducerClosedError,
  ProducerFencedError,
  RecordDroppedError,
  TransactionAbortableError,
  TransactionAbortedError,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from '../../src/index.js';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { parseBootstrap } from '../../src/net/bootstrap.js';
import { Metadata } from '../../src/protocol/apis/index.js';
import { endOffset, readPartition } from '../../src/reader/partition-reader.js';
import { waitingCost } from '../../src/producer/waiting.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import {
  activeResources,
  closedPort,
  collectGarbage,
  FreezingProxy,
  logConnectAttempts,
  rejection,
  settleWithin,
  silentServer,
  waitUntil,
} from '../helpers/lifecycle.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const clusters = singleNodeClusters();
const INVALID_TOPIC_EXCEPTION = 17;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** One turn of the event loop: every promise settled synchronously has run its handlers. */
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** An error of the class meant, checked by its code first (a clearer failure than a missing class). */
function expectError(err: unknown, cls: unknown, code: string): void {
  expect(err, `expected an error with code ${code}`).toMatchObject({ code });
  expect(typeof cls, `the error class for ${code} is exported`).toBe('function');
  expect(err).toBeInstanceOf(cls as typeof Error);
}

/**
 * What became of each of many sends, kept small: a caller's 300k errors must not be what
 * fills the heap we measure. Rejections are told apart by error name.
 */
interface Flood {
  /** 'pending', 'resolved', or the name of the error it rejected with, per send. */
  states: string[];
  settled(): number;
  /** Indexes of the sends that rejected with an error of this class, in send order. */
  failedWith(cls: unknown): number[];
  /** The first error of this class, and up to 100 distinct messages of its errors. */
  first(cls: unknown): Error | undefined;
  messages(cls: unknown): string[];
}

/** Calls send() `n` times without awaiting any, as a caller that ignores backpressure. */
function flood(p: Producer, n: number, record: (i: number) => ProducerRecord): Flood {
  const states: string[] = new Array<string>(n).fill('pending');
  const firsts = new Map<string, Error>();
  const messages = new Map<string, Set<string>>();
  let settled = 0;
  for (let i = 0; i < n; i++) {
    p.send(record(i)).then(
      () => void (settled++, (states[i] = 'resolved')),
      (err: Error) => {
        settled++;
        states[i] = err.name;
        if (!firsts.has(err.name)) firsts.set(err.name, err);
        let seen = messages.get(err.name);
        if (!seen) messages.set(err.name, (seen = new Set()));
        if (seen.size < 100) seen.add(err.message);
      },
    );
  }
  const nameOf = (cls: unknown): string => (typeof cls === 'function' ? cls.name : '<class not exported>');
  return {
    states,
    settled: () => settled,
    failedWith: (cls) => states.flatMap((state, i) => (state === nameOf(cls) ? [i] : [])),
    first: (cls) => firsts.get(nameOf(cls)),
    messages: (cls) => [...(messages.get(nameOf(cls)) ?? [])],
  };
}

describe.each(clusters)('Producer life cycle against $name', (cluster) => {
  let broker: BrokerConnection;
  const target = parseBootstrap(cluster.bootstrap)[0]!;
  /** Run after each test, last registered first (producers before the proxies they use). */
  const cleanups: Array<() => Promise<unknown>> = [];
  const producer = (opts: Partial<ProducerOptions> = {}): Producer => {
    const p = new Producer({ bootstrap: cluster.bootstrap, clientId: 'kafka-wire-lifecycle', ...opts });
    cleanups.push(() => p.close({ timeoutMs: 500 }));
    return p;
  };
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    await broker?.close();
  });

  async function topicWith(prefix: string, partitions = 1): Promise<string> {
    const topic = uniqueTopic(prefix);
    await createTopic(broker, topic, { partitions });
    return topic;
  }

  /** A producer that reaches the broker only through a FreezingProxy, and has delivered one record. */
  async function connectedThroughProxy(opts: Partial<ProducerOptions> = {}): Promise<{ p: Producer; topic: string; proxy: FreezingProxy }> {
    const topic = await topicWith('proxied');
    const proxy = await FreezingProxy.start(target);
    cleanups.push(() => proxy.close());
    const p = producer({ bootstrap: proxy.address, mapBrokerAddress: () => ({ host: proxy.host, port: proxy.port }), ...opts });
    await p.send({ topic, partition: 0, value: 'first' });
    return { p, topic, proxy };
  }

  /** ... which then finds the broker frozen: connections stay open, nothing passes. */
  async function frozenAfterFirstSend(opts: Partial<ProducerOptions> = {}): Promise<{ p: Producer; topic: string }> {
    const { p, topic, proxy } = await connectedThroughProxy(opts);
    proxy.freeze();
    return { p, topic };
  }

  /** A producer whose bootstrap addresses refuse every connection, with their ports. */
  async function unreachable(opts: Partial<ProducerOptions> = {}, count = 1): Promise<{ p: Producer; ports: number[] }> {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await closedPort());
    return { p: producer({ bootstrap: ports.map((port) => `127.0.0.1:${port}`), ...opts }), ports };
  }

  const values = async (topic: string, partition = 0): Promise<string[]> =>
    (await readPartition(broker, { topic, partition })).records.map((r) => r.value?.toString() ?? '<null>');

  // ---- close() ---------------------------------------------------------------------

  it('close({ timeoutMs: 2000 }) while the first connection is still opening settles in time; then no dial, socket or timer is left', async () => {
    const before = activeResources();
    const server = await silentServer();
    cleanups.push(() => server.close());
    const attempts = logConnectAttempts([server.port]);
    cleanups.push(async () => attempts.stop());
    // The frozen broker accepts the connection and never answers ApiVersions.
    const p = producer({ bootstrap: server.address, requestTimeoutMs: 8000 });
    const sent = p.send({ topic: 'never-written', value: 'x' }).catch((e: unknown) => e);
    await waitUntil(() => server.accepted > 0, 5000, 'the producer dials the broker');

    const closing = await settleWithin(p.close({ timeoutMs: 2000 }), 12_000);
    expect(closing.state).toBe('resolved');
    expect(closing.ms, 'close() settles within timeoutMs + 1 s').toBeLessThanOrEqual(3000);
    const closedAt = Date.now();
    expect(await sent).toBeInstanceOf(ProducerClosedError);

    await waitUntil(() => server.open === 0, 1000, 'the producer has closed its socket');
    // Nothing to wait for here: watch for a while that nothing is dialled any more.
    await sleep(1000);
    expect(attempts.since(closedAt), 'connection attempts after close()').toEqual([]);
    const after = activeResources();
    expect((after['TCPSocketWrap'] ?? 0) - server.held, 'sockets besides the frozen broker\'s own').toBeLessThanOrEqual(before['TCPSocketWrap'] ?? 0);
    expect(after['Timeout'] ?? 0).toBeLessThanOrEqual(before['Timeout'] ?? 0);
  });

  it('close({ timeoutMs: 2000 }) with requests out to a broker that froze settles within 3 s and fails what was not answered', async () => {
    const { p, topic } = await frozenAfterFirstSend();
    const pending = Array.from({ length: 20 }, (_, i) => p.send({ topic, value: `frozen-${i}` }).catch((e: unknown) => e));
    await waitUntil(() => p.metrics().requestsInFlight > 0, 5000, 'a request is out');

    const closing = await settleWithin(p.close({ timeoutMs: 2000 }), 12_000);
    expect(closing.state).toBe('resolved');
    expect(closing.ms, 'close() settles within timeoutMs + 1 s').toBeLessThanOrEqual(3000);
    for (const err of await Promise.all(pending)) expect(err).toBeInstanceOf(ProducerClosedError);
  });

  it('ProducerClosedError says a record in an unanswered request is not known to be written, and one never sent was not sent', async () => {
    // One request at a time: the second record stays in its batch while the first is out.
    const { p, topic } = await frozenAfterFirstSend({ maxInFlight: 1, lingerMs: 0 });
    const inRequest = p.send({ topic, partition: 0, value: 'in a request' }).catch((e: unknown) => e);
    await waitUntil(() => p.metrics().requestsInFlight === 1, 5000, 'the first record is in a request');
    const neverSent = p.send({ topic, partition: 0, value: 'never sent' }).catch((e: unknown) => e);
    await p.close({ timeoutMs: 200 });

    const [sent, unsent] = (await Promise.all([inRequest, neverSent])) as Error[];
    expect(sent).toBeInstanceOf(ProducerClosedError);
    expect(sent!.message).toMatch(/not known to be written/);
    expect(unsent).toBeInstanceOf(ProducerClosedError);
    expect(unsent!.message).toMatch(/(not|never)( been)? sent/);
    expect(unsent!.message).not.toMatch(/not known to be written/);
  });

  it('a closed producer calls a delivery callback once, with ProducerClosedError, and dials nothing more', async () => {
    const { p, ports } = await unreachable({ maxBlockMs: 1000, retryBackoffMs: 50 });
    const attempts = logConnectAttempts(ports);
    cleanups.push(async () => attempts.stop());
    const calls: Array<Error | null> = [];
    p.produce({ topic: 'nowhere', value: 'x' }, (err) => calls.push(err));
    await waitUntil(() => attempts.attempts.length > 0, 5000, 'the producer tries the bootstrap broker');

    await p.close({ timeoutMs: 50 });
    const closedAt = Date.now();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(ProducerClosedError);
    // Past maxBlockMs, when a send still waiting for metadata would give up: still one call.
    await sleep(1500);
    expect(calls, 'delivery callback calls').toHaveLength(1);
    expect(attempts.since(closedAt), 'connection attempts after close()').toEqual([]);
  });

  // ---- AbortSignal -----------------------------------------------------------------

  it('an AbortSignal aborts the first send waiting for metadata at once, and its record is never written', async () => {
    const topic = uniqueTopic('abort-metadata');
    const p = producer({ allowAutoTopicCreation: false, retryBackoffMs: 50, retryBackoffMaxMs: 200 });
    const controller = new AbortController();
    const aborted = settleWithin(p.send({ topic, value: 'aborted' }, { signal: controller.signal }), 3000);
    await nextTurn();
    controller.abort();
    const outcome = await aborted;
    // The topic appears later: the aborted record must still not go out.
    await createTopic(broker, topic);
    const after = await settleWithin(p.send({ topic, value: 'after' }), 10_000);
    expect.soft(after.state).toBe('resolved');
    expect.soft(await values(topic)).toEqual(['after']);
    expect(rejection(outcome)).toBeInstanceOf(AbortedError);
  });

  it('a record aborted inside an unsent batch: flush() and close() resolve, and the metrics count it as aborted, not sent', async () => {
    const topic = await topicWith('abort-batch');
    const p = producer({ lingerMs: 2000 });
    await Promise.all([p.send({ topic, value: 'first' }), p.flush()]);
    const controller = new AbortController();
    const kept = [p.send({ topic, value: 'kept-1' })];
    const cancelled = p.send({ topic, value: 'cancelled' }, { signal: controller.signal }).catch((e: unknown) => e);
    kept.push(p.send({ topic, value: 'kept-2' }));
    controller.abort();

    const flushed = await settleWithin(p.flush(), 5000);
    expect.soft(flushed.state, 'flush()').toBe('resolved');
    expect.soft(await settleWithin(cancelled, 1000)).toMatchObject({ state: 'resolved', value: expect.any(AbortedError) });
    expect.soft((await settleWithin(Promise.all(kept), 1000)).state, 'the other records').toBe('resolved');
    const closed = await settleWithin(p.close({ timeoutMs: 2000 }), 5000);
    expect.soft(closed.state, 'close()').toBe('resolved');
    expect.soft(closed.ms, 'close() with nothing left to send').toBeLessThan(1000);
    expect(p.metrics()).toMatchObject({ recordsSent: 3, recordsAborted: 1 });
    expect(await values(topic)).toEqual(['first', 'kept-1', 'kept-2']);
  });

  // ---- sends that wait, and topics that cannot be -------------------------------------

  it.each([
    ['a topic that does not exist', async (): Promise<ProducerRecord> => ({ topic: uniqueTopic('missing'), value: 'stuck' })],
    ['a partition beyond the topic\'s count', async (): Promise<ProducerRecord> => ({ topic: await topicWith('narrow'), partition: 5, value: 'stuck' })],
  ])('a send waiting for %s does not hold back a send to a healthy topic', async (_, stuckRecord) => {
    const healthy = await topicWith('healthy');
    const p = producer({ allowAutoTopicCreation: false, maxBlockMs: 60_000, retryBackoffMs: 50 });
    const stuck = p.send(await stuckRecord()).catch((e: unknown) => e);
    const outcome = await settleWithin(p.send({ topic: healthy, value: 'healthy' }), 5000);
    expect(outcome.state).toBe('resolved');
    expect(outcome.ms).toBeLessThan(3000);
    await p.close({ timeoutMs: 100 });
    expect(await stuck).toBeInstanceOf(Error);
  });

  it.each([
    ['bad/topic name', 'a character Kafka does not allow'],
    ['t'.repeat(250), '250 characters (the limit is 249)'],
  ])('a topic name the broker refuses (%s: %s) fails fast with InvalidTopicError', async (name) => {
    // What the broker says, asked directly.
    const { response } = await broker.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: true });
    expect(response.topics[0]!.errorCode).toBe(INVALID_TOPIC_EXCEPTION);

    const p = producer({ maxBlockMs: 60_000, retryBackoffMs: 50 });
    const outcome = await settleWithin(p.send({ topic: name, value: 'x' }), 8000);
    const err = rejection(outcome);
    expect(outcome.ms).toBeLessThan(5000);
    expectError(err, InvalidTopicError, 'KAFKA_WIRE_INVALID_TOPIC');
    expect(err).toMatchObject({ topic: name });
    // Refused by the broker: its error code. Refused before asking (a local check): none.
    const { errorCode } = err as Error & { errorCode?: number };
    if (errorCode !== undefined) expect(errorCode).toBe(INVALID_TOPIC_EXCEPTION);
  });

  it('a topic with metadata that the broker refuses to take records for (__consumer_offsets) fails with InvalidTopicError, and only its records', async () => {
    const healthy = await topicWith('beside-internal');
    const p = producer({ maxBlockMs: 60_000, retryBackoffMs: 50 });
    const refused = p.send({ topic: '__consumer_offsets', value: 'x' }).catch((e: unknown) => e);
    const taken = p.send({ topic: healthy, value: 'y' });
    const err = await refused;
    // Metadata names the topic; the Produce answer refuses it: the same typed error as a
    // refusal in a Metadata answer, with the broker's answer as its cause.
    expectError(err, InvalidTopicError, 'KAFKA_WIRE_INVALID_TOPIC');
    expect(err).toMatchObject({ topic: '__consumer_offsets', errorCode: INVALID_TOPIC_EXCEPTION });
    expect((err as Error).message).toMatch(/refused by the cluster: INVALID_TOPIC_EXCEPTION \(17\) in Produce v\d+ from 127\.0\.0\.1:\d+/);
    expect((err as Error).cause).toBeInstanceOf(BrokerError);
    await expect(taken).resolves.toMatchObject({ topic: healthy, offset: 0n });
    await p.close();
  });

  // ---- an unreachable cluster ------------------------------------------------------

  const backoff = { retryBackoffMs: 50, retryBackoffMaxMs: 1000, maxBlockMs: 5000 };
  // Gone after connecting, the producer knew the broker as a bootstrap address and as a
  // node: 5 more attempts allowed for both (through the proxy, they dial the same port).
  it.each([
    ['never reachable', 15, async () => {
      const { p, ports } = await unreachable(backoff);
      return { p, ports, send: () => p.send({ topic: 'nowhere', value: 'x' }) };
    }],
    ['gone after the producer connected', 20, async () => {
      const { p, topic, proxy } = await connectedThroughProxy(backoff);
      await proxy.close();
      return { p, ports: [proxy.port], send: () => p.send({ topic, value: 'x' }) };
    }],
  ])('reconnect attempts to a broker that is down (%s) back off exponentially toward retryBackoffMaxMs', async (_, most, down) => {
    const { p, ports, send } = await down();
    const attempts = logConnectAttempts(ports);
    cleanups.push(async () => attempts.stop());
    const start = Date.now();
    const sent = send().catch((e: unknown) => e);
    // A rate over a fixed window: there is no condition to wait for instead.
    await sleep(4000);
    const times = attempts.attempts.filter((a) => a.at < start + 4000).map((a) => a.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const inSecond = (s: number): number => times.filter((t) => t >= start + s * 1000 && t < start + (s + 1) * 1000).length;
    const detail = `attempts at +${times.map((t) => t - start).join(', +')} ms`;
    expect(times.length, detail).toBeGreaterThanOrEqual(4);
    expect(times.length, detail).toBeLessThanOrEqual(most);
    // Growing gaps: dense in the first second, sparse in the fourth, and none (much)
    // longer than retryBackoffMaxMs (with Java's 20% jitter).
    expect(inSecond(0), detail).toBeGreaterThanOrEqual(2 * inSecond(3));
    expect(Math.max(...gaps), detail).toBeLessThanOrEqual(1000 * 1.2 + 250);
    await p.close({ timeoutMs: 100 });
    await sent;
  });

  it('a send to an unreachable cluster fails at maxBlockMs with a ConnectionError naming the addresses and the socket error', async () => {
    const { p, ports } = await unreachable({ maxBlockMs: 1500, retryBackoffMs: 50 }, 2);
    const outcome = await settleWithin(p.send({ topic: 'nowhere', value: 'x' }), 6000);
    const err = rejection(outcome);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(outcome.ms).toBeGreaterThanOrEqual(1400);
    expect(outcome.ms).toBeLessThan(1500 + 1500);
    for (const port of ports) expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('connect() to an unreachable cluster fails with a ConnectionError whose cause is the socket error too', async () => {
    const { p, ports } = await unreachable({ maxBlockMs: 1500, retryBackoffMs: 50 }, 2);
    const err = await p.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    for (const port of ports) expect(err!.message).toContain(`127.0.0.1:${port}`);
    // The same shape as a send's: not a ConnectionError around the socket's error.
    expect(err!.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(err!.cause).not.toBeInstanceOf(ConnectionError);
    await p.close({ timeoutMs: 100 });
  });

  // ---- memory --------------------------------------------------------------------

  it('a caller that ignores backpressure: sends past the budget fail at once with BufferFullError, memory stays bounded', async () => {
    const { p, topic } = await frozenAfterFirstSend({ bufferMemory: 1 << 20, maxBlockMs: 3000 });
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    const value = 'v'.repeat(100);
    const n = 300_000;
    const sends = flood(p, n, () => ({ topic, value }));
    await nextTurn();
    const failedAtOnce = sends.failedWith(BufferFullError).length;
    collectGarbage();
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(failedAtOnce, 'sends failed in the turn they were made').toBeGreaterThan(0);
    expect(heapGrowthMb, 'MB of heap held by 300k pending sends').toBeLessThan(150);

    // Whatever waits for memory gives up at maxBlockMs; only what is in batches stays.
    const waited = await settleWithin(p.ready(), 3000 + 5000);
    const failed = sends.failedWith(BufferFullError);
    expect(waited.state, 'ready() once nothing waits for memory any more').toBe('resolved');
    expect(failed.length).toBeGreaterThan(n / 2);
    for (const message of sends.messages(BufferFullError)) {
      // Which budget: the batches' (bufferMemory) or the waiting sends' (waitingMemory).
      expect(message).toMatch(/bufferMemory|waitingMemory/);
      expect(message).not.toMatch(/maxBlockMs is 0/);
    }
    await p.close({ timeoutMs: 100 });
    await waitUntil(() => sends.settled() === n, 5000, 'every send has settled after close()');
  });

  it('bufferFullPolicy \'fail\': a send fails at once when the memory budget is full', async () => {
    const { p, topic } = await frozenAfterFirstSend({ bufferMemory: 1 << 20, maxBlockMs: 60_000, bufferFullPolicy: 'fail' } as Partial<ProducerOptions>);
    const sends = flood(p, 3000, (i) => ({ topic, partition: 0, value: `${i} `.padEnd(1000, 'f') }));
    await nextTurn();
    const failed = sends.failedWith(BufferFullError);
    expect(failed.length).toBeGreaterThan(0);
    // The first ~1 MiB of records fit; the rest did not wait.
    expect(failed[0]).toBeGreaterThan(500);
    expect(sends.states.at(-1)).toBe('BufferFullError');
  });

  it('bufferFullPolicy \'drop-oldest\': room is made by failing the oldest records not yet in a request with RecordDroppedError', async () => {
    const options = { bufferMemory: 1 << 20, maxBlockMs: 60_000, maxInFlight: 1, lingerMs: 0, bufferFullPolicy: 'drop-oldest' };
    const { p, topic } = await frozenAfterFirstSend(options as Partial<ProducerOptions>);
    const inRequest = p.send({ topic, partition: 0, value: 'in a request' }).catch((e: unknown) => e);
    await waitUntil(() => p.metrics().requestsInFlight === 1, 5000, 'a record is in a request');
    const sends = flood(p, 3000, (i) => ({ topic, partition: 0, value: `${i} `.padEnd(1000, 'd') }));
    await nextTurn();

    const dropped = sends.failedWith(RecordDroppedError);
    expect(dropped.length).toBeGreaterThan(0);
    expectError(sends.first(RecordDroppedError), RecordDroppedError, 'KAFKA_WIRE_RECORD_DROPPED');
    // The oldest went: a run from the first record on, and the newest is still held.
    expect(dropped).toEqual(dropped.map((_, i) => i));
    expect(sends.states.at(-1)).toBe('pending');
    expect(p.metrics()).toMatchObject({ recordsDropped: dropped.length });
    // The record in a request was never a candidate.
    await p.close({ timeoutMs: 100 });
    expect(await inRequest).toBeInstanceOf(ProducerClosedError);
  });

  it('produce() paced on ready() with every batch lingering: nothing lingers while a send waits for memory', async () => {
    // 64 KiB of memory, 100 partitions, one record per batch: the budget fills with batches
    // that would linger 60 s each. Written back in full before flush() is even called.
    const topic = await topicWith('exhausted', 100);
    const p = producer({ bufferMemory: 64 * 1024, lingerMs: 60_000, deliveryTimeoutMs: 120_000 });
    await p.connect();
    const n = 400;
    const delivered: Array<Error | null> = [];
    for (let i = 0; i < n; i++) {
      if (!p.produce({ topic, key: `key-${i}`, value: `${i}`.padEnd(1000, '.') }, (err) => delivered.push(err))) await p.ready();
    }
    expect(p.metrics().waitsForMemory, 'sends that waited for memory').toBeGreaterThan(0);
    // Lingering, the loop would still wait (for lingerMs at every wait): memory came back
    // because batches went, so all but what the last 64 KiB hold is delivered before flush().
    expect(delivered.length, 'records delivered before flush(), with lingerMs 60,000').toBeGreaterThan(n - 64);
    await p.flush();
    expect(delivered).toEqual(Array(n).fill(null));
    let written = 0;
    for (let partition = 0; partition < 100; partition++) written += (await readPartition(broker, { topic, partition })).records.length;
    expect(written).toBe(n);
  });

  it('sendBatch() of 20 times the memory budget: every record written once, none refused, the event loop not held', async () => {
    const topic = await topicWith('big-batch', 3);
    const p = producer({ bufferMemory: 1 << 20 });
    const n = 20_000;
    const records = Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: `${i}`.padEnd(1000, '.') }));
    // Sampled between event-loop turns while the call runs: the bytes of waiting copies.
    const waiting: number[] = [];
    const ticker = setInterval(() => waiting.push(p.metrics().waitingBytes), 1);
    const results = await p.sendBatch(records).finally(() => clearInterval(ticker));
    expect(results).toHaveLength(n);
    expect(p.metrics().waitingBytes, 'nothing left waiting').toBe(0);
    let written = 0n;
    for (let partition = 0; partition < 3; partition++) written += await endOffset(broker, topic, partition);
    expect(written).toBe(BigInt(n));
    // Handed in whole, the array waited in copies (thousands at once) within one turn; now the
    // event loop turns while the call takes records in, and its records wait uncopied (at
    // most the first one that found no memory, sent as a send() is, holds a copy).
    expect(waiting.length, 'event-loop turns seen during the call').toBeGreaterThan(0);
    expect(Math.max(...waiting), 'bytes of waiting copies at once').toBeLessThanOrEqual(waitingCost(records[0]!));
  });

  it('bufferFullPolicy \'drop-oldest\' is refused for a transactional producer', () => {
    const ok = new Producer({ bootstrap: cluster.bootstrap, bufferFullPolicy: 'drop-oldest' } as ProducerOptions);
    cleanups.push(() => ok.close());
    const transactional = (): Producer => new Producer({ bootstrap: cluster.bootstrap, transactionalId: 'x', bufferFullPolicy: 'drop-oldest' } as ProducerOptions);
    expect(transactional).toThrow(ConfigError);
    expect(transactional).toThrow(/transaction/i);
  });
});

describe.each(clusters)('Transaction errors, one class per meaning, on $name', (cluster) => {
  let broker: BrokerConnection;
  const producers: Producer[] = [];
  const transactional = async (opts: Partial<ProducerOptions> = {}): Promise<Producer> => {
    const p = new Producer({ bootstrap: cluster.bootstrap, transactionalId: uniqueTopic('tid'), lingerMs: 2, ...opts });
    producers.push(p);
    await p.initTransactions();
    p.beginTransaction();
    return p;
  };
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close({ timeoutMs: 2000 })));
    await broker?.close();
  });

  it('after a record of the transaction failed, commitTransaction() rejects with TransactionAbortableError', async () => {
    const topic = uniqueTopic('txn-failed');
    await createTopic(broker, topic, { configs: { 'max.message.bytes': '1000' } });
    const p = await transactional();
    await p.send({ topic, value: 'fits' });
    // One record over the topic's limit: no split can make it fit.
    await expect(p.send({ topic, value: Buffer.alloc(5000, 'x') })).rejects.toThrow();
    const err = await p.commitTransaction().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionAbortableError);
    expect(p.transactionState).toBe('abortable-error');
    await p.abortTransaction();
    p.beginTransaction();
    await p.send({ topic, value: 'committed' });
    await p.commitTransaction();
    const { records } = await readPartition(broker, { topic, partition: 0, isolation: 'read_committed' });
    expect(records.map((r) => r.value!.toString())).toEqual(['committed']);
  });

  it.skipIf(cluster.version.startsWith('3.'))('a fenced producer: its send is abortable (a leader cannot tell a takeover from a timeout, KIP-588), its abort and every call after reject with ProducerFencedError', async () => {
    const topic = uniqueTopic('txn-fenced');
    await createTopic(broker, topic);
    const transactionalId = uniqueTopic('tid-fenced');
    const older = await transactional({ transactionalId });
    await older.send({ topic, value: 'before' });
    const newer = new Producer({ bootstrap: cluster.bootstrap, transactionalId });
    producers.push(newer);
    await newer.initTransactions();
    const err = await older.send({ topic, value: 'after the fence' }).catch((e: unknown) => e);
    expectError(err, TransactionAbortableError, 'KAFKA_WIRE_TRANSACTION_ABORTABLE');
    expectError(await older.abortTransaction().catch((e: unknown) => e), ProducerFencedError, 'KAFKA_WIRE_PRODUCER_FENCED');
    expectError(await older.send({ topic, value: 'after the abort' }).catch((e: unknown) => e), ProducerFencedError, 'KAFKA_WIRE_PRODUCER_FENCED');
  });

  it('sends dropped by abortTransaction() reject with TransactionAbortedError', async () => {
    const topic = uniqueTopic('txn-aborted');
    await createTopic(broker, topic);
    const p = await transactional({ lingerMs: 5000 });
    const lingering = Array.from({ length: 3 }, (_, i) => p.send({ topic, value: `lingering-${i}` }).catch((e: unknown) => e));
    await p.abortTransaction();
    for (const err of await Promise.all(lingering)) expectError(err, TransactionAbortedError, 'KAFKA_WIRE_TRANSACTION_ABORTED');
  });
});
