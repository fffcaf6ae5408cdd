/**
 * `npm run quickstart`: fetches Apache Kafka (first time only), starts a real broker on
 * loopback, shows what it supports and what kafka-wire negotiates with it, creates a
 * topic, shows its metadata, and stops the broker.
 *
 *   npm run quickstart -- [--kafka 4.3.1]
 *
 * To keep a broker running for your own experiments, use `npm run broker -- start`.
 */
import { parseArgs } from 'node:util';
import { startCluster } from './kafka/cluster.js';
import { ensureKafka } from './kafka/dist.js';
import { LATEST_KAFKA } from './kafka/versions.js';
import { apiVersionRows, formatApiVersions } from '../src/cli/broker-commands.js';
import { BrokerError } from '../src/errors.js';
import { BrokerConnection } from '../src/net/broker-connection.js';
import { parseBootstrap } from '../src/net/bootstrap.js';
import { CreateTopics, Metadata } from '../src/protocol/apis/index.js';

const { values } = parseArgs({ options: { kafka: { type: 'string', default: LATEST_KAFKA } } });
const version = values.kafka!;
const step = (text: string): void => void process.stdout.write(`\n== ${text}\n`);

step(`Apache Kafka ${version}: resolving its jars from Maven Central (cached after the first run)`);
let t = Date.now();
await ensureKafka(version);
console.log(`ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);

step('starting a single KRaft broker on 127.0.0.1');
t = Date.now();
const cluster = await startCluster({ version, nodes: 1, name: 'quickstart' });
console.log(`broker up at ${cluster.bootstrap} in ${((Date.now() - t) / 1000).toFixed(1)} s`);

try {
  const [address] = parseBootstrap(cluster.bootstrap);
  const broker = await BrokerConnection.open({ ...address!, clientId: 'kafka-wire-quickstart' });
  try {
    step(`ApiVersions v${broker.apiVersionsVersion}: what the broker supports, and the version kafka-wire uses`);
    process.stdout.write(formatApiVersions(apiVersionRows(broker).filter((row) => row.used !== null)));
    const others = apiVersionRows(broker).filter((row) => row.used === null);
    console.log(`(and ${others.length} more APIs kafka-wire does not need: ${others.map((r) => r.name).join(', ')})`);
    for (const [name, level] of broker.features.finalized) console.log(`finalized feature ${name} = ${level.max}`);

    step('CreateTopics: quickstart, 3 partitions');
    const created = await broker.request(CreateTopics, { topics: [{ name: 'quickstart', numPartitions: 3, replicationFactor: 1 }] });
    const result = created.response.topics[0]!;
    if (result.errorCode) throw new BrokerError(result.errorCode, { api: `CreateTopics v${created.version}`, detail: result.errorMessage });
    console.log(`created (CreateTopics v${created.version}), topic id ${result.topicId}`);

    step('Metadata');
    await new Promise((r) => setTimeout(r, 500));
    const { version: mv, response } = await broker.request(Metadata, { topics: [{ name: 'quickstart' }], allowAutoTopicCreation: false });
    console.log(`Metadata v${mv}: cluster ${response.clusterId}, controller ${response.controllerId}`);
    for (const b of response.brokers) console.log(`  broker ${b.nodeId} at ${b.host}:${b.port}`);
    for (const topic of response.topics) {
      for (const p of topic.partitions) console.log(`  ${topic.name}[${p.partitionIndex}] leader ${p.leaderId}, epoch ${p.leaderEpoch}`);
    }
  } finally {
    await broker.close();
  }
} finally {
  step('stopping the broker');
  await cluster.stop();
  console.log('done (for a broker that keeps running: npm run broker -- start)');
}
