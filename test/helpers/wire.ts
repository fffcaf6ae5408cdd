/**
 * kafka-wire's own requests that broker tests share: connect, create a topic, find its
 * leaders. All but openBroker live in the conformance suite (src/conformance/admin.ts).
 */
import { BrokerConnection } from '../../src/net/broker-connection.js';
import { parseBootstrap } from '../../src/net/bootstrap.js';
import type { ProvidedCluster } from './kafka.js';

export { commonVersions, createTopic, initTransactional, waitForLeaders, type PartitionInfo } from '../../src/conformance/admin.js';

export async function openBroker(cluster: Pick<ProvidedCluster, 'bootstrap'>, which = 0): Promise<BrokerConnection> {
  const address = parseBootstrap(cluster.bootstrap)[which]!;
  return BrokerConnection.open({ ...address, clientId: 'kafka-wire-conformance' });
}

