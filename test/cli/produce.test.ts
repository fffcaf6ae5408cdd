/** `kafka-wire produce`: stdin lines to records, checked by Kafka's own console consumer. */
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { produceCommand } from '../../src/cli/produce-command.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { ConnectionError } from '../../src/errors.js';
import { hasTools, kafkaTools, singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

/** Where produceCommand's summary goes, and what it wrote. */
function summarySink(): { out: Writable; text(): string } {
  let text = '';
  return { out: new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) }), text: () => text };
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
  ])('%o is a usage error', async (flags, message) => {
    await expect(produceCommand({ bootstrap: '127.0.0.1:1', topic: 't', input: Readable.from([]), ...flags })).rejects.toThrow(new UsageError(message));
  });

  it('a broker that cannot be reached fails at once, not after maxBlockMs', async () => {
    const started = Date.now();
    await expect(produceCommand({ bootstrap: '127.0.0.1:1', topic: 't', input: Readable.from(['x\n']) })).rejects.toBeInstanceOf(ConnectionError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
