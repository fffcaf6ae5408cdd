/**
 * The conformance suite, run as `kafka-wire conformance` runs it, against every Apache
 * Kafka cluster the harness started: no check may fail or differ from what Kafka
 * answered when expected.json was recorded (with --admin: the throttling checks run too),
 * every topic it created is gone afterwards,
 * and it stays well under two minutes.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerConnection } from '../../../src/net/broker-connection.js';
import { Metadata } from '../../../src/protocol/apis/index.js';
import { runConformance } from '../../../src/conformance/command.js';
import { startCluster, type KafkaCluster } from '../../../scripts/kafka/cluster.js';
import { LATEST_KAFKA } from '../../../scripts/kafka/versions.js';
import { singleNodeClusters } from '../../helpers/kafka.js';
import { openBroker } from '../../helpers/wire.js';

const TWO_MINUTES = 120_000;

/** A stream for the suite's progress and report, and what it printed so far (shown when a check fails). */
function captured(): { out: PassThrough; printed(): string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out, printed: () => text };
}

describe.each(singleNodeClusters().filter((c) => c.version !== 'external'))('kafka-wire conformance against $name', (cluster) => {
  let broker: BrokerConnection;
  beforeAll(async () => {
    broker = await openBroker(cluster);
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('passes every check it can run, as Apache Kafka answered them, and deletes its topics', async () => {
    const { out, printed } = captured();
    const prefix = `suite-${cluster.version.replace(/\./g, '')}`;
    const { exitCode, report } = await runConformance({ bootstrap: cluster.bootstrap, prefix, admin: true, out, err: out });
    const unwanted = report.results.filter((r) => r.status === 'fail' || r.status === 'differs' || r.status === 'skipped');
    expect(unwanted.map((r) => `${r.id}: ${r.message}`), printed()).toEqual([]);
    expect(exitCode).toBe(0);
    expect(report.durationMs).toBeLessThan(TWO_MINUTES);
    // Every category ran something, and what was not offered is what this release lacks.
    const notOffered = report.results.filter((r) => r.status === 'not offered').map((r) => r.id);
    if (cluster.version.startsWith('4.')) expect(notOffered).toEqual([]);
    else expect(notOffered).toEqual(['limits/unknown-topic-id', ...['commit', 'abort', 'read-committed', 'fencing', 'send-offsets'].map((c) => `transactions/v2/${c}`)]);
    expect(report.cleanupErrors).toEqual([]);
    const { response } = await broker.request(Metadata, { topics: null });
    expect(response.topics.filter((t) => t.name?.startsWith(prefix)).map((t) => t.name)).toEqual([]);
  }, TWO_MINUTES);
});

// Settings a cluster may have and still be Apache Kafka: the suite's topics pin what its
// checks rest on, so none of them fails for it (153 of 154 produce checks did).
describe('kafka-wire conformance against a broker with other topic defaults', () => {
  let cluster: KafkaCluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster({ version: LATEST_KAFKA, name: 'conformance-other-defaults', config: { 'compression.type': 'gzip', 'log.message.timestamp.type': 'LogAppendTime' } });
  }, TWO_MINUTES);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('passes the produce checks as against a broker with the defaults', async () => {
    const { out, printed } = captured();
    const { exitCode, report } = await runConformance({ bootstrap: cluster!.bootstrap, prefix: 'suite-other-defaults', only: ['produce'], out, err: out });
    expect(report.results.filter((r) => r.status !== 'pass').map((r) => `${r.id}: ${r.status} ${r.message}`), printed()).toEqual([]);
    expect(exitCode).toBe(0);
  }, TWO_MINUTES);
});
