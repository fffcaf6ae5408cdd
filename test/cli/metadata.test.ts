/** `kafka-wire metadata`: what it prints, and its exit status for scripts that check a topic exists. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metadataCommand } from '../../src/cli/broker-commands.js';
import { singleNodeClusters, uniqueTopic } from '../helpers/kafka.js';
import { createTopic, openBroker } from '../helpers/wire.js';

function captureStdout(): { text: () => string } {
  let text = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  return { text: () => text };
}

describe.each(singleNodeClusters())('kafka-wire metadata against $name', (cluster) => {
  afterEach(() => vi.restoreAllMocks());

  it('exits 0 for a topic that exists and 1 (still printing the answer) for one that does not', async () => {
    const topic = uniqueTopic('cli-meta');
    const broker = await openBroker(cluster);
    await createTopic(broker, topic, { partitions: 2 });
    await broker.close();

    let out = captureStdout();
    expect(await metadataCommand({ bootstrap: cluster.bootstrap, topics: [topic], json: false })).toBe(0);
    expect(out.text()).toMatch(new RegExp(`topic ${topic} id \\S+ partitions 2\\n`));
    vi.restoreAllMocks();

    const missing = uniqueTopic('cli-missing');
    out = captureStdout();
    expect(await metadataCommand({ bootstrap: cluster.bootstrap, topics: [missing], json: false })).toBe(1);
    expect(out.text()).toMatch(new RegExp(`topic ${missing} .*error UNKNOWN_TOPIC_OR_PARTITION`));
    vi.restoreAllMocks();

    out = captureStdout();
    expect(await metadataCommand({ bootstrap: cluster.bootstrap, topics: [topic, missing], json: true })).toBe(1);
    expect((JSON.parse(out.text()) as { topics: unknown[] }).topics).toHaveLength(2);
  });
});
