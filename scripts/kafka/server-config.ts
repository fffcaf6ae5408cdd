import { LOOPBACK } from './ports.js';
import { majorVersion } from './versions.js';

export interface NodeAddress {
  id: number;
  port: number;
  controllerPort: number;
}

export interface ServerConfigInput {
  version: string;
  node: NodeAddress;
  allNodes: readonly NodeAddress[];
  dataDir: string;
  overrides?: Record<string, string>;
}

/**
 * server.properties for a KRaft node that is broker and controller at once,
 * tuned for tests: loopback only, no rebalance delay, and replication
 * settings that a 1-node cluster can satisfy while a 3-node one behaves like
 * a small production cluster (RF 3, min ISR 2).
 */
export function serverConfig(input: ServerConfigInput): Record<string, string> {
  const { node, allNodes } = input;
  const replication = String(Math.min(allNodes.length, 3));
  const minIsr = allNodes.length >= 3 ? '2' : '1';

  const config: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': String(node.id),
    // A static voter set works on every KRaft release and needs no
    // controller.quorum.bootstrap.servers or --initial-controllers at format time.
    'controller.quorum.voters': allNodes.map((n) => `${n.id}@${LOOPBACK}:${n.controllerPort}`).join(','),
    listeners: `PLAINTEXT://${LOOPBACK}:${node.port},CONTROLLER://${LOOPBACK}:${node.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${LOOPBACK}:${node.port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': input.dataDir,

    'num.partitions': '1',
    'auto.create.topics.enable': 'true',
    'group.initial.rebalance.delay.ms': '0',
    // Keeps auto-created topics writable with acks=all when min ISR is 2.
    'default.replication.factor': replication,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': replication,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': minIsr,
  };

  // Share groups (KIP-932) only exist from 4.0; 3.x would warn about unknown keys.
  if (majorVersion(input.version) >= 4) {
    config['share.coordinator.state.topic.replication.factor'] = replication;
    config['share.coordinator.state.topic.min.isr'] = minIsr;
  }

  return { ...config, ...input.overrides };
}

/** Java properties text; escapes what the format treats specially. */
export function toPropertiesText(config: Record<string, string>): string {
  const escape = (text: string, isKey: boolean): string =>
    text
      .replaceAll('\\', '\\\\')
      .replaceAll('\n', '\\n')
      .replace(isKey ? /[=: ]/g : /^ /, (c) => `\\${c}`);
  return (
    Object.entries(config)
      .map(([key, value]) => `${escape(key, true)}=${escape(value, false)}`)
      .join('\n') + '\n'
  );
}
