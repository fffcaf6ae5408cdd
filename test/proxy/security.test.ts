/**
 * `kafka-wire proxy` in front of secured listeners: the proxy speaks TLS and SASL to the
 * broker itself (authenticating each of its own connections before the client's frames go
 * on) while the client talks plaintext to it on loopback and never sees the SASL exchange.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenssl } from '../../scripts/kafka/certs.js';
import { startCluster, type KafkaCluster } from '../../scripts/kafka/cluster.js';
import { parseBootstrap } from '../../src/net/bootstrap.js';
import { BrokerConnection } from '../../src/net/broker-connection.js';
import type { SaslOptions, TlsOptions } from '../../src/net/security.js';
import { Producer } from '../../src/producer/producer.js';
import { hasDecodeProblem, summaryLine, type Exchange } from '../../src/proxy/index.js';
import { startProxy, type ProxyEvent } from '../../src/proxy/proxy.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import { clusters, uniqueTopic } from '../helpers/kafka.js';

const external = clusters().some((c) => c.version === 'external');
const wanted = process.env['KAFKA_WIRE_VERSIONS']?.split(',').map((v) => v.trim());
const ssl = await hasOpenssl();
const USER = 'proxy-user';
const SECRET = `Pr0xy-${randomBytes(6).toString('hex')}`;

describe.skipIf(external || (wanted !== undefined && !wanted.includes('4.3.1')))('proxy to secured listeners (Kafka 4.3.1)', () => {
  let cluster: KafkaCluster;
  beforeAll(async () => {
    cluster = await startCluster({ version: '4.3.1', name: `proxy-security-${process.pid}`, security: { sasl: true, ssl, users: [{ name: USER, password: SECRET }] } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function through(listenerName: 'SASL_PLAINTEXT' | 'SASL_SSL', tls: TlsOptions | undefined, sasl: SaslOptions): Promise<void> {
    const upstream = parseBootstrap(cluster.security!.listeners[listenerName]!)[0]!;
    const exchanges: Exchange[] = [];
    const events: ProxyEvent[] = [];
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream, tls, sasl, onExchange: (ex) => exchanges.push(ex), onEvent: (e) => events.push(e) });
    const bootstrap = `127.0.0.1:${proxy.address.port}`;
    const topic = uniqueTopic('proxy-sec');
    const values = ['one', 'two', 'three'].map((v) => `${listenerName} ${v}`);
    try {
      // Plaintext, no credentials: the proxy holds them.
      const producer = new Producer({ bootstrap, clientId: 'proxy-security', lingerMs: 0 });
      try {
        for (const value of values) await producer.send({ topic, value });
      } finally {
        await producer.close();
      }
      const reader = await BrokerConnection.open({ host: '127.0.0.1', port: proxy.address.port, clientId: 'proxy-security-reader' });
      try {
        const { records } = await readPartition(reader, { topic, partition: 0 });
        expect(records.map((r) => r.value?.toString())).toEqual(values);
      } finally {
        await reader.close();
      }
    } finally {
      await new Promise((r) => setTimeout(r, 100));
      await proxy.close();
    }
    expect(events.filter((e) => e.type === 'upstream-error')).toEqual([]);
    const apis = new Set(exchanges.map((e) => e.api));
    expect(apis).toContain('Produce');
    expect(apis).toContain('Fetch');
    // The proxy's own SASL requests are not the client's: they are not shown.
    expect(apis.has('SaslHandshake') || apis.has('SaslAuthenticate')).toBe(false);
    expect(exchanges.filter(hasDecodeProblem).map(summaryLine)).toEqual([]);
    expect(proxy.stats.rewrites).toBeGreaterThan(0);
  }

  it('SCRAM-SHA-512 over SASL_PLAINTEXT', async () => {
    await through('SASL_PLAINTEXT', undefined, { mechanism: 'SCRAM-SHA-512', username: USER, password: SECRET });
  });

  it.skipIf(!ssl)('PLAIN over SASL_SSL (TLS with the test CA)', async () => {
    await through('SASL_SSL', { ca: cluster.security!.certificates!.ca.cert }, { mechanism: 'PLAIN', username: USER, password: SECRET });
  });

  it('a refused password closes the client connection and says why', async () => {
    const upstream = parseBootstrap(cluster.security!.listeners.SASL_PLAINTEXT!)[0]!;
    const events: ProxyEvent[] = [];
    const proxy = await startProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream, sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: 'wrong' }, onEvent: (e) => events.push(e) });
    try {
      await expect(BrokerConnection.open({ host: '127.0.0.1', port: proxy.address.port, connectTimeoutMs: 5000, requestTimeoutMs: 5000 })).rejects.toThrow();
      expect(events.find((e) => e.type === 'upstream-error')).toMatchObject({ message: expect.stringMatching(/SASL SCRAM-SHA-256 authentication .* failed/) });
    } finally {
      await proxy.close();
    }
  });
});
