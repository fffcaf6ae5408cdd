/** `kafka-wire produce`: stdin lines to records, checked by Kafka's own console consumer. */
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { produceCommand } from '../../src/cli/produce-command.js';
import { hasTools, kafkaTools, singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

describe.each(singleNodeClusters().filter(hasTools))('kafka-wire produce against $name', (cluster) => {
  it('sends one record per line with keys, headers and compression, as Kafka\'s console consumer reads them', async () => {
    const topic = uniqueTopic('cli');
    const broker = await openBroker(cluster);
    await createTopic(broker, topic);
    await broker.close();
    let report = '';
    const out = new Writable({ write: (chunk, _enc, done) => ((report += String(chunk)), done()) });
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
    expect(report).toMatch(/^3 of 3 records delivered/);
    const consumed = await kafkaTools(cluster).consoleConsume({ topic, maxMessages: 3, printKey: true, printHeaders: true });
    expect(consumed.messages).toHaveLength(3);
    expect(consumed.messages[0]).toMatch(/source:cli,n:1\s+k1\s+hello$/);
    expect(consumed.messages[1]).toMatch(/k2\s+world: with colon$/);
    expect(consumed.messages[2]).toMatch(/null\s+no separator here$/);
  });
});
