/** `api-versions` and `metadata`: what a broker says about itself. */
import { BrokerError } from '../errors.js';
import { BrokerConnection } from '../net/broker-connection.js';
import { parseBootstrap } from '../net/bootstrap.js';
import type { SaslOptions, TlsOptions } from '../net/security.js';
import { apiName } from '../protocol/api-keys.js';
import { API_BY_KEY, Metadata } from '../protocol/apis/index.js';

export interface ConnectFlags {
  bootstrap: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
}

async function withBroker<T>(flags: ConnectFlags, fn: (broker: BrokerConnection) => Promise<T>): Promise<T> {
  const [first] = parseBootstrap(flags.bootstrap);
  const broker = await BrokerConnection.open({ host: first!.host, port: first!.port, clientId: 'kafka-wire-cli', tls: flags.tls, sasl: flags.sasl });
  try {
    return await fn(broker);
  } finally {
    await broker.close();
  }
}

export interface ApiVersionRow {
  key: number;
  name: string;
  brokerMin: number;
  brokerMax: number;
  /** The version kafka-wire would send, or null when it does not speak this API. */
  used: number | null;
}

/** One row per API the broker lists, with the version negotiation's outcome. */
export function apiVersionRows(broker: BrokerConnection): ApiVersionRow[] {
  return [...broker.brokerVersions.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, range]) => {
      const ours = API_BY_KEY.get(key);
      return { key, name: apiName(key), brokerMin: range.min, brokerMax: range.max, used: ours ? (broker.versionFor(ours) ?? null) : null };
    });
}

export async function apiVersionsCommand(opts: ConnectFlags & { json: boolean }): Promise<number> {
  return withBroker(opts, async (broker) => {
    const rows = apiVersionRows(broker);
    const features = Object.fromEntries(broker.features.finalized);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ broker: broker.address, apis: rows, finalizedFeatures: features }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${broker.address} (ApiVersions v${broker.apiVersionsVersion})\n`);
    process.stdout.write(formatApiVersions(rows));
    for (const [name, level] of broker.features.finalized) process.stdout.write(`feature ${name}: level ${level.max}\n`);
    return 0;
  });
}

export function formatApiVersions(rows: readonly ApiVersionRow[]): string {
  const lines = [['key', 'api', 'broker', 'kafka-wire uses']];
  for (const r of rows) lines.push([String(r.key), r.name, `${r.brokerMin}-${r.brokerMax}`, r.used === null ? '' : `v${r.used}`]);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export async function metadataCommand(opts: ConnectFlags & { topics: string[] | undefined; json: boolean }): Promise<number> {
  return withBroker(opts, async (broker) => {
    const topics = opts.topics?.map((name) => ({ name })) ?? null;
    const { version, response } = await broker.request(Metadata, { topics, allowAutoTopicCreation: false });
    if (response.errorCode) throw new BrokerError(response.errorCode, { broker: broker.address, api: `Metadata v${version}` });
    // A topic asked for and answered with an error (unknown, not authorized) fails the
    // command, as a script checking for the topic would expect; the answer is still shown.
    const status = topics !== null && response.topics.some((t) => t.errorCode !== 0) ? 1 : 0;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(response, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
      return status;
    }
    process.stdout.write(`cluster ${response.clusterId ?? '?'} (Metadata v${version}), controller ${response.controllerId}\n`);
    for (const b of response.brokers) process.stdout.write(`broker ${b.nodeId} ${b.host}:${b.port}${b.rack ? ` rack ${b.rack}` : ''}\n`);
    for (const t of response.topics) {
      const err = t.errorCode ? ` error ${new BrokerError(t.errorCode).type}` : '';
      process.stdout.write(`topic ${t.name} id ${t.topicId} partitions ${t.partitions.length}${err}\n`);
      for (const p of [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex)) {
        process.stdout.write(`  ${p.partitionIndex}: leader ${p.leaderId} epoch ${p.leaderEpoch} replicas [${p.replicaNodes.join(',')}] isr [${p.isrNodes.join(',')}]\n`);
      }
    }
    return status;
  });
}
