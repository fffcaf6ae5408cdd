/** `kafka-wire produce`: stdin lines to records, checked by Kafka's own console consumer. */
import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { produceCommand } from '../../src/cli/produce-command.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { ConnectionError } from '../../src/errors.js';
import { hasTools, kafkaTools, singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { createTopic, openBroker } from '../helpers/wire.js';

/** Where produceCommand's summary goes, and what it wrote. */
function summarySink(): { out: Writable; text(): string } {
  let text = '';
  return { out: new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) }), text: () => text };
}

/** Signals a test sends to produceCommand, as the process would get them. */
function signals(): { interrupts: AsyncIterable<NodeJS.Signals>; send(signal: NodeJS.Signals): void; end(): void } {
  const queue: Array<NodeJS.Signals | null> = [];
  let wake: (() => void) | undefined;
  const push = (v: NodeJS.Signals | null): void => {
    queue.push(v);
    wake?.();
  };
  async function* interrupts(): AsyncGenerator<NodeJS.Signals> {
    for (;;) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const next = queue.shift();
      if (next === null) return;
      if (next) yield next;
    }
  }
  return { interrupts: interrupts(), send: push, end: () => push(null) };
}

describe.each(singleNodeClusters().filter(hasTools))('kafka-wire produce against $name', (cluster) => {
  async function freshTopic(prefix: string): Promise<string> {
    const topic = uniqueTopic(prefix);
    const broker = await openBroker(cluster);
    await createTopic(broker, topic);
    await broker.close();
    return topic;
  }

  it('sends one record per line with keys, headers and compression, as Kafka\'s console consumer reads them', async () => {
    const topic = await freshTopic('cli');
    const { out, text } = summarySink();
    const code = await produceCommand({
      bootstrap: cluster.bootstrap,
      topic,
      keySeparator: ':',
      header: ['source=cli', 'n=1'],
      compression: 'gzip',
      input: Readable.from(['k1:hello\n', 'k2:world: with colon\n', 'no separator here\n']),
      out,
    });
    expect(code).toBe(0);
    expect(text()).toMatch(/^3 of 3 records delivered/);
    const consumed = await kafkaTools(cluster).consoleConsume({ topic, maxMessages: 3, printKey: true, printHeaders: true });
    expect(consumed.messages).toHaveLength(3);
    expect(consumed.messages[0]).toMatch(/source:cli,n:1\s+k1\s+hello$/);
    expect(consumed.messages[1]).toMatch(/k2\s+world: with colon$/);
    expect(consumed.messages[2]).toMatch(/null\s+no separator here$/);
  });

  it('keys and values are the exact bytes between newline bytes: not UTF-8, NUL and \\r kept, as kcat -P', async () => {
    const topic = await freshTopic('cli-bytes');
    const { out, text } = summarySink();
    // Chunks that split a line, and the separator, across reads.
    const input = Readable.from([Buffer.from('k\xff:v\xfe\x00z\nk', 'latin1'), Buffer.from('2:', 'latin1'), Buffer.from('a\r\n\xc3\n\nlast', 'latin1')]);
    const code = await produceCommand({ bootstrap: cluster.bootstrap, topic, keySeparator: ':', input, out });
    expect(code).toBe(0);
    expect(text()).toMatch(/^5 of 5 records delivered/);
    const broker = await openBroker(cluster);
    const { records } = await readPartition(broker, { topic, partition: 0 });
    await broker.close();
    const hex = (b: Buffer | null | undefined): string | null => (b ? b.toString('hex') : null);
    expect(records.map((r) => [hex(r.key), hex(r.value)])).toEqual([
      ['6bff', '76fe007a'],
      ['6b32', '610d'],
      [null, 'c3'],
      [null, ''],
      [null, '6c617374'],
    ]);
  });

  it('--acks 0: the summary says the records were sent, not that they were delivered', async () => {
    const topic = await freshTopic('cli-acks0');
    const { out, text } = summarySink();
    const code = await produceCommand({ bootstrap: cluster.bootstrap, topic, acks: '0', input: Readable.from(['a\nb\n']), out });
    expect(code).toBe(0);
    expect(text()).toMatch(new RegExp(`^2 of 2 records sent \\(acks=0: not confirmed\\) to ${topic} in `));
  });

  it('SIGINT while lines linger: reading stops, what was read is delivered, the summary says so, exit code 130', async () => {
    const topic = await freshTopic('cli-int');
    const { out, text } = summarySink();
    const input = new PassThrough();
    const sig = signals();
    // A linger far longer than the test: only the interrupt's drain sends these lines.
    const run = produceCommand({ bootstrap: cluster.bootstrap, topic, lingerMs: '60000', input, out, interrupts: sig.interrupts });
    input.write('l1\nl2\nl3\n');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    sig.send('SIGINT');
    const code = await run;
    sig.end();
    expect(code).toBe(130);
    expect(text()).toMatch(/SIGINT: no more input read/);
    expect(text()).toMatch(/^3 of 3 records delivered to .* \(interrupted by SIGINT\)$/m);
    const broker = await openBroker(cluster);
    const { records } = await readPartition(broker, { topic, partition: 0 });
    await broker.close();
    expect(records.map((r) => r.value?.toString())).toEqual(['l1', 'l2', 'l3']);
  });

  it('--max-block-ms: a partition the topic does not have fails after it, not after a minute', async () => {
    const topic = await freshTopic('cli-part');
    const { out, text } = summarySink();
    const started = Date.now();
    const code = await produceCommand({ bootstrap: cluster.bootstrap, topic, partition: '7', maxBlockMs: '500', input: Readable.from(['x\n']), out });
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(text()).toMatch(/^0 of 1 records delivered .*1 failed: .*partition 7/);
  });

  it('a line that can never be sent fails alone: the lines after it are delivered, and the summary counts it', async () => {
    const topic = await freshTopic('cli-big');
    const { out, text } = summarySink();
    const code = await produceCommand({ bootstrap: cluster.bootstrap, topic, input: Readable.from(['before\n', `${'x'.repeat(2 * 1024 * 1024)}\n`, 'after\n']), out });
    expect(code).toBe(1);
    expect(text()).toMatch(/^2 of 3 records delivered to .*, 1 failed: a record of \d+ bytes .* is over maxRequestSize/);
    const consumed = await kafkaTools(cluster).consoleConsume({ topic, maxMessages: 2 });
    expect(consumed.messages).toEqual(['before', 'after']);
  });
});

describe('kafka-wire produce, before it reads a line', () => {
  it.each([
    [{ compression: 'brotli' }, '--compression is none, gzip, snappy, lz4, zstd; got "brotli"'],
    [{ lingerMs: 'abc' }, '--linger-ms must be a non-negative integer, got "abc"'],
    [{ partition: '-1' }, '--partition must be a non-negative integer, got "-1"'],
    [{ maxBlockMs: '1s' }, '--max-block-ms must be a non-negative integer, got "1s"'],
    [{ topic: '' }, '--topic "" is empty'],
    [{ topic: 'no spaces' }, '--topic "no spaces" may hold only ASCII letters, digits, ".", "_" and "-"'],
    [{ keySeparator: '' }, '--key-separator cannot be empty: give the string between key and value, e.g. -K :'],
  ])('%o is a usage error', async (flags, message) => {
    await expect(produceCommand({ bootstrap: '127.0.0.1:1', topic: 't', input: Readable.from([]), ...flags })).rejects.toThrow(new UsageError(message));
  });

  it('a broker that cannot be reached fails at once, not after maxBlockMs', async () => {
    const started = Date.now();
    await expect(produceCommand({ bootstrap: '127.0.0.1:1', topic: 't', input: Readable.from(['x\n']) })).rejects.toBeInstanceOf(ConnectionError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
