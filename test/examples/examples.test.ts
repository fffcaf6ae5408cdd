/**
 * The programs in examples/, run the way their READMEs say (tsx, from their folder, so
 * `from 'kafka-wire'` resolves through examples/tsconfig.json to src/) against the
 * harness broker, driven from outside (HTTP, stdin, signals) and judged by what the
 * broker stored. Every wait is bounded; a child still running at the end is killed.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerConnection } from '../../src/net/broker-connection.js';
import { readPartition, type IsolationLevel } from '../../src/reader/partition-reader.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { settleWithin } from '../helpers/lifecycle.js';
import { createTopic, openBroker } from '../helpers/wire.js';

const EXAMPLES = path.resolve('examples');
const KAFKAJS_ENTRY = path.resolve('src/kafkajs/index.ts');
const cluster = singleNodeClusters()[0]!;
const execFileAsync = promisify(execFile);

/** `promise`, or an error naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const outcome = await settleWithin(promise, ms);
  if (outcome.state === 'pending') throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  if (outcome.state === 'rejected') throw outcome.error;
  return outcome.value;
}

/** An example running as a child process, its output collected as it comes. */
class Example {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';
  #onOutput = (): void => {};

  constructor(readonly file: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', path.basename(file)], {
      cwd: path.join(EXAMPLES, path.dirname(file)),
      env: { ...process.env, KAFKA_BOOTSTRAP: cluster.bootstrap, ...env },
    });
    this.child.stdout.on('data', (chunk: Buffer) => ((this.stdout += chunk.toString()), this.#onOutput()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) => resolve(code));
    });
  }

  /** The first stdout line matching `pattern`, waiting up to `ms` for it. */
  async line(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    // Complete lines only: a chunk may end in the middle of one.
    const found = (): RegExpMatchArray | undefined =>
      this.stdout.split('\n').slice(0, -1).map((l) => l.match(pattern)).find((m) => m !== null) ?? undefined;
    const appeared = new Promise<RegExpMatchArray>((resolve, reject) => {
      this.#onOutput = () => {
        const match = found();
        if (match) resolve(match);
      };
      this.#onOutput();
      void this.exited.then(() => reject(new Error(`${this.file} exited before printing ${pattern}`)));
    });
    return within(appeared, ms, `${this.file} to print ${pattern}\n${this.output()}`);
  }

  /** The exit code, waiting up to `ms`. */
  exit(ms: number): Promise<number | null> {
    return within(this.exited, ms, `${this.file} to exit\n${this.output()}`);
  }

  output(): string {
    return `--- stdout\n${this.stdout}--- stderr\n${this.stderr}`;
  }
}

let broker: BrokerConnection;
const running: Example[] = [];

function start(file: string, env: Record<string, string> = {}): Example {
  const example = new Example(file, env);
  running.push(example);
  return example;
}

beforeAll(async () => {
  broker = await openBroker(cluster);
});

afterEach(() => {
  // A no-op for those that exited.
  for (const example of running.splice(0)) example.child.kill('SIGKILL');
});

afterAll(async () => {
  await broker?.close();
});

async function newTopic(prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix);
  await createTopic(broker, topic);
  return topic;
}

async function readBack(topic: string, isolation: IsolationLevel = 'read_uncommitted'): Promise<Array<{ offset: bigint; key: string; value: string }>> {
  const { records } = await readPartition(broker, { topic, partition: 0, isolation, timeoutMs: 10_000 });
  return records.map((r) => ({ offset: r.offset, key: r.key?.toString() ?? '', value: r.value?.toString() ?? '' }));
}

describe('examples/http-transactions', () => {
  interface Reply {
    status: number;
    body: { id?: string; order?: { offset: string }; audit?: { offset: string }; error?: string };
  }

  /**
   * POSTs `body` to /orders. With `release`, the request goes with `Expect: 100-continue`
   * and its body only once `release` resolves: `accepted` then says the server has the
   * request (its handler runs) while the body is still to come.
   */
  function post(agent: Agent, port: number, body: string, release?: Promise<void>): { accepted: Promise<void>; reply: Promise<Reply> } {
    let accepted!: () => void;
    const acceptedPromise = new Promise<void>((resolve) => (accepted = resolve));
    const reply = new Promise<Reply>((resolve, reject) => {
      const headers = { 'content-type': 'application/json', ...(release && { expect: '100-continue' }) };
      const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/orders', headers, timeout: 15_000 }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Reply['body'] });
          } catch {
            reject(new Error(`${res.statusCode}: not JSON: ${text}`));
          }
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
      if (!release) {
        req.end(body);
        accepted();
        return;
      }
      req.on('continue', () => {
        accepted();
        void release.then(() => req.end(body));
      });
      req.flushHeaders();
    });
    return { accepted: acceptedPromise, reply };
  }

  const order = (n: number): string => JSON.stringify({ customer: `customer-${n}`, items: [{ sku: `sku-${n}`, quantity: n }] });

  /** Whether a new TCP connection to `port` is refused. */
  const refused = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve(false)));
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });

  it('writes an order and its audit event per request in one transaction; SIGTERM finishes the requests in flight, commits them, exits 0', async () => {
    const [ordersTopic, auditTopic] = await Promise.all([newTopic('orders'), newTopic('orders-audit')]);
    const app = start('http-transactions/server.ts', {
      PORT: '0',
      ORDERS_TOPIC: ordersTopic,
      AUDIT_TOPIC: auditTopic,
      TRANSACTIONAL_ID_PREFIX: uniqueTopic('orders-api'),
    });
    // The first line says the port: nothing else may come before it.
    const port = Number((await app.line(/^listening on port (\d+)$/, 15_000))[1]);
    expect(app.stdout.startsWith('listening on port ')).toBe(true);
    const agent = new Agent({ keepAlive: true });

    try {
      const served = await within(Promise.all([1, 2, 3].map((n) => post(agent, port, order(n)).reply)), 20_000, 'three orders');
      expect(served.map((r) => r.status)).toEqual([201, 201, 201]);
      const invalid = await within(post(agent, port, '{"customer":""}').reply, 5_000, 'an invalid order');
      expect(invalid).toMatchObject({ status: 400, body: { error: expect.stringContaining('customer') } });

      // Three requests the server has taken (100 Continue came back) but whose bodies have
      // not arrived yet: in flight when SIGTERM comes.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const held = [4, 5, 6].map((n) => post(agent, port, order(n), released));
      await within(Promise.all(held.map((h) => h.accepted)), 5_000, 'the server to take the held requests');
      app.child.kill('SIGTERM');
      await app.line(/^SIGTERM: not accepting connections; finishing 3 request\(s\) in flight$/, 5_000);
      expect(await refused(port)).toBe(true);
      release();
      const drained = await within(Promise.all(held.map((h) => h.reply)), 15_000, 'the held requests to be answered');
      expect(drained.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(await app.exit(15_000)).toBe(0);
      expect(app.stdout).toMatch(/^shutdown: done$/m);

      // Every order answered 201 is committed, with its audit event, at the offsets the
      // answers gave; the invalid one wrote nothing.
      const answered = [...served, ...drained].map((r) => r.body);
      const [orders, audits] = await Promise.all([readBack(ordersTopic, 'read_committed'), readBack(auditTopic, 'read_committed')]);
      expect(orders.map((r) => [r.key, String(r.offset)]).sort()).toEqual(answered.map((b) => [b.id, b.order?.offset]).sort());
      expect(audits.map((r) => [r.key, String(r.offset)]).sort()).toEqual(answered.map((b) => [b.id, b.audit?.offset]).sort());
      expect(orders.map((r) => (JSON.parse(r.value) as { customer: string }).customer).sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `customer-${n}`));
      expect(audits.every((r) => (JSON.parse(r.value) as { orderId: string }).orderId === r.key)).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('examples/log-shipper', () => {
  interface Summary {
    read: number;
    sent: number;
    dropped: number;
    failed: number;
  }

  function summary(stderr: string): Summary {
    const m = stderr.match(/log-shipper: (\d+) lines read, (\d+) sent, (\d+) dropped, (\d+) failed/);
    if (!m) throw new Error(`no summary line in:\n${stderr}`);
    const [read, sent, dropped, failed] = m.slice(1).map(Number) as [number, number, number, number];
    return { read, sent, dropped, failed };
  }

  /** Pipes `count` numbered lines of about `width` characters into the shipper, waits for it to exit. */
  async function ship(count: number, width: number, env: Record<string, string>): Promise<{ shipper: Example; lines: string[] }> {
    const lines = Array.from({ length: count }, (_, i) => `${i} `.padEnd(width, 'x'));
    const shipper = start('log-shipper/ship.ts', env);
    // Through a stream, so that the pipe's own backpressure applies when the shipper stops reading.
    const input = pipeline(Readable.from(lines.map((l) => `${l}\n`)), shipper.child.stdin).catch((err: unknown) => {
      throw new Error(`writing to the shipper: ${String(err)}\n${shipper.output()}`);
    });
    await within(input, 20_000, 'the shipper to read its input');
    expect(await shipper.exit(20_000), shipper.output()).toBe(0);
    return { shipper, lines };
  }

  it('ships every line of stdin, in order, then flushes, closes and sums up', async () => {
    const topic = await newTopic('logs');
    const { shipper, lines } = await ship(3000, 80, { TOPIC: topic });
    expect(summary(shipper.stderr)).toEqual({ read: 3000, sent: 3000, dropped: 0, failed: 0 });
    expect((await readBack(topic)).map((r) => r.value)).toEqual(lines);
  });

  it('with a small memory budget under a flood, drops the oldest unsent lines, counts them, and delivers the rest in order', async () => {
    const topic = await newTopic('logs');
    const { shipper, lines } = await ship(5000, 1000, { TOPIC: topic, BUFFER_MEMORY: String(64 * 1024) });
    const counts = summary(shipper.stderr);
    expect(counts).toMatchObject({ read: lines.length, failed: 0 });
    expect(counts.dropped).toBeGreaterThan(0);
    expect(counts.sent + counts.dropped).toBe(lines.length);
    expect(shipper.stderr).toContain('dropping the oldest unsent lines');

    const stored = (await readBack(topic)).map((r) => Number(r.value.split(' ')[0]));
    expect(stored).toHaveLength(counts.sent);
    // What arrived kept its order, and the newest line, which nothing came after to drop it, is there.
    expect(stored.every((n, i) => i === 0 || n > stored[i - 1]!)).toBe(true);
    expect(stored.at(-1)).toBe(lines.length - 1);
  });
});

describe('examples/from-kafkajs', () => {
  it('runs KafkaJS\'s README producer with its import switched to kafka-wire/kafkajs', async ({ skip }) => {
    skip(!existsSync(KAFKAJS_ENTRY), 'src/kafkajs/index.ts does not exist yet: no KafkaJS drop-in to run the example against');
    const topic = await newTopic('kafkajs');
    const example = start('from-kafkajs/producer.ts', { TOPIC: topic });
    expect(await example.exit(20_000), example.output()).toBe(0);
    expect((await readBack(topic)).map((r) => r.value)).toEqual(['Hello KafkaJS user!']);
  });
});

describe('examples type-check', () => {
  // The root tsconfig.json does not cover examples/; their own config resolves
  // 'kafka-wire' to src/. Without the KafkaJS drop-in, its example is left out.
  it('tsc -p examples/tsconfig.json', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kafka-wire-examples-'));
    try {
      const config = path.join(dir, 'tsconfig.json');
      const exclude = existsSync(KAFKAJS_ENTRY) ? [] : [path.join(EXAMPLES, 'from-kafkajs')];
      // typeRoots: from a temporary directory, tsc would look for @types there.
      const compilerOptions = { typeRoots: [path.resolve('node_modules/@types')] };
      await writeFile(config, JSON.stringify({ extends: path.join(EXAMPLES, 'tsconfig.json'), compilerOptions, include: [EXAMPLES], exclude }));
      // execFile kills tsc if it runs past the timeout; its complaints are on stdout.
      const complaints = await execFileAsync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', config], { timeout: 30_000 }).then(
        () => '',
        (err: { stdout?: string; message: string }) => err.stdout || err.message,
      );
      expect(complaints).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
