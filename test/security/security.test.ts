/**
 * TLS and SASL against real brokers: a 4.3.1 cluster with every secured listener
 * (SASL_PLAINTEXT, SSL, mutual TLS, SASL_SSL, OAUTHBEARER with and without TLS) and
 * 3 s SASL sessions (connections.max.reauth.ms), and a 3.9.2 one for a smoke test.
 * Both are started here: the shared clusters are PLAINTEXT only.
 *
 * What is checked: records produced over each combination come back; each kind of
 * refusal fails fast, with an AuthenticationError that says what was wrong, and without
 * a storm of reconnects; no secret shows up in anything printed; a busy producer's
 * connection is re-authenticated in place and loses nothing.
 */
import { spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasOpenssl } from '../../scripts/kafka/certs.js';
import { startCluster, type KafkaCluster } from '../../scripts/kafka/cluster.js';
import { produceCommand } from '../../src/cli/produce-command.js';
import { securityFromFlags } from '../../src/cli/security-flags.js';
import { AuthenticationError, ConfigError, ProtocolError } from '../../src/errors.js';
import { BrokerConnection } from '../../src/net/broker-connection.js';
import { parseBootstrap } from '../../src/net/bootstrap.js';
import { CONNECT_CHANNEL } from '../../src/net/connection.js';
import { AUTHENTICATE_CHANNEL, type AuthenticateEvent } from '../../src/net/sasl/index.js';
import type { SaslOptions, TlsOptions } from '../../src/net/security.js';
import { Producer } from '../../src/producer/producer.js';
import { readPartition } from '../../src/reader/partition-reader.js';
import type { ProbeInput } from './fixtures/leak-probe.js';
import { clusters, uniqueTopic } from '../helpers/kafka.js';

const external = clusters().some((c) => c.version === 'external');
const wanted = process.env['KAFKA_WIRE_VERSIONS']?.split(',').map((v) => v.trim());
const runs = (version: string): boolean => !external && (wanted === undefined || wanted.includes(version));
const ssl = await hasOpenssl();

const USER = 'alice';
const SECRET = `S3cr3t-Pa55-${randomBytes(6).toString('hex')}`;
const WRONG = `S3cr3t-Pa55-wrong-${randomBytes(6).toString('hex')}`;
const REAUTH_MS = 3000;

/** An unsigned JWT (`alg: none`), what Kafka's unsecured OAUTHBEARER validator accepts. */
function unsignedJwt(sub: string, lifetimeS = 3600, extra: Record<string, unknown> = {}): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none' })}.${part({ sub, iat: now, exp: now + lifetimeS, ...extra })}.`;
}

interface Security {
  tls?: TlsOptions;
  sasl?: SaslOptions;
}

function listener(cluster: KafkaCluster, name: string): string {
  const address = cluster.security?.listeners[name as keyof NonNullable<KafkaCluster['security']>['listeners']];
  if (!address) throw new Error(`${cluster.name} has no ${name} listener`);
  return address;
}

/** Produces three records with the Producer, reads them back over a BrokerConnection with the same security. */
async function produceAndReadBack(bootstrap: string, security: Security, label: string): Promise<void> {
  const topic = uniqueTopic(`sec-${label.replace(/[^a-z0-9]+/gi, '-')}`);
  const values = ['one', 'two', 'three'].map((v) => `${label} ${v}`);
  const producer = new Producer({ bootstrap, clientId: 'kafka-wire-security', lingerMs: 0, ...security });
  try {
    for (const value of values) await producer.send({ topic, value });
  } finally {
    await producer.close();
  }
  const reader = await BrokerConnection.open({ ...parseBootstrap(bootstrap)[0]!, clientId: 'kafka-wire-security-reader', ...security });
  try {
    const { records } = await readPartition(reader, { topic, partition: 0 });
    expect(records.map((r) => r.value?.toString())).toEqual(values);
  } finally {
    await reader.close();
  }
}

/** Counts connection attempts (diagnostics channel) while `fn` runs. */
async function countingConnects<T>(fn: () => Promise<T>): Promise<{ result: T; connects: number }> {
  let connects = 0;
  const onConnect = (): void => void connects++;
  subscribe(CONNECT_CHANNEL.name, onConnect);
  try {
    const result = await fn();
    return { result, connects };
  } finally {
    unsubscribe(CONNECT_CHANNEL.name, onConnect);
  }
}

/**
 * A refusal must fail at once, typed, and not be retried in a loop: the first send
 * fails with the AuthenticationError (long before maxBlockMs), further sends during the
 * backoff fail with it too without connecting again.
 */
async function expectFailsFast(bootstrap: string, security: Security, check: (err: AuthenticationError) => void): Promise<void> {
  const direct = await BrokerConnection.open({ ...parseBootstrap(bootstrap)[0]!, ...security }).then(
    async (b) => {
      await b.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(direct).toBeInstanceOf(AuthenticationError);
  check(direct as AuthenticationError);
  expect((direct as AuthenticationError).retriable).toBe(false);

  const producer = new Producer({ bootstrap, clientId: 'kafka-wire-security-fail', maxBlockMs: 8_000, retryBackoffMaxMs: 1_000, ...security });
  try {
    const { result, connects } = await countingConnects(async () => {
      const started = Date.now();
      const first = await producer.send({ topic: 'never-written', value: 'x' }).catch((err: unknown) => err);
      const firstMs = Date.now() - started;
      expect(first).toBeInstanceOf(AuthenticationError);
      const more: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        more.push(await producer.send({ topic: 'never-written', value: 'x' }).catch((err: unknown) => err));
        await new Promise((r) => setTimeout(r, 100));
      }
      return { first, firstMs, more };
    });
    expect(result.first).toBeInstanceOf(AuthenticationError);
    check(result.first as AuthenticationError);
    expect(result.firstMs).toBeLessThan(3_000);
    for (const err of result.more) expect(err).toBeInstanceOf(AuthenticationError);
    // One attempt, plus at most one more once the 1 s backoff has passed.
    expect(connects).toBeLessThanOrEqual(2);
  } finally {
    await producer.close();
  }
}

describe.skipIf(!runs('4.3.1'))('security against Kafka 4.3.1', () => {
  let cluster: KafkaCluster;
  let tls: { ca: string };
  let mtls: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    cluster = await startCluster({
      version: '4.3.1',
      name: `security-4.3.1-${process.pid}`,
      security: { sasl: true, ssl, oauth: true, reauthMs: REAUTH_MS, users: [{ name: USER, password: SECRET }] },
    });
    const certs = cluster.security?.certificates;
    if (certs) {
      tls = { ca: certs.ca.cert };
      mtls = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const mechanisms: Array<[string, () => SaslOptions]> = [
    ['PLAIN', () => ({ mechanism: 'PLAIN', username: USER, password: SECRET })],
    ['SCRAM-SHA-256', () => ({ mechanism: 'SCRAM-SHA-256', username: USER, password: SECRET })],
    ['SCRAM-SHA-512', () => ({ mechanism: 'SCRAM-SHA-512', username: USER, password: SECRET })],
    ['OAUTHBEARER', () => ({ mechanism: 'OAUTHBEARER', token: () => ({ value: unsignedJwt(USER), lifetimeMs: 600_000 }) })],
  ];

  describe('produce and read back', () => {
    it.skipIf(!ssl)('over TLS', () => produceAndReadBack(listener(cluster, 'SSL'), { tls }, 'tls'));
    it.skipIf(!ssl)('over mutual TLS', () => produceAndReadBack(listener(cluster, 'MTLS'), { tls: mtls }, 'mtls'));
    for (const [name, sasl] of mechanisms) {
      const plain = name === 'OAUTHBEARER' ? 'OAUTH' : 'SASL_PLAINTEXT';
      const secured = name === 'OAUTHBEARER' ? 'OAUTH_SSL' : 'SASL_SSL';
      it(`with SASL ${name} over plaintext`, () => produceAndReadBack(listener(cluster, plain), { sasl: sasl() }, `${name} plain`));
      it.skipIf(!ssl)(`with SASL ${name} over TLS`, () => produceAndReadBack(listener(cluster, secured), { tls, sasl: sasl() }, `${name} tls`));
    }
  });

  describe('refusals fail fast, typed, without a reconnect storm', () => {
    it('a wrong password', () =>
      expectFailsFast(listener(cluster, 'SASL_PLAINTEXT'), { sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: WRONG } }, (err) => {
        expect(err).toMatchObject({ reason: 'credentials', errorCode: 58, code: 'KAFKA_WIRE_AUTHENTICATION' });
        expect(err.message).toMatch(/SASL_AUTHENTICATION_FAILED \(58\).*invalid credentials with SASL mechanism SCRAM-SHA-256/);
      }));

    it('an invalid OAUTHBEARER token', () =>
      expectFailsFast(listener(cluster, 'OAUTH'), { sasl: { mechanism: 'OAUTHBEARER', token: () => unsignedJwt(USER, -60) } }, (err) => {
        expect(err).toMatchObject({ reason: 'credentials', errorCode: 58 });
        expect(err.message).toMatch(/invalid_token/);
      }));

    it('a SASL listener dialled without sasl: connect() and send() fail at once, saying so and naming its mechanisms', async () => {
      // The listener only closes the connection; a second one asks it (SaslHandshake) what it is.
      const producer = new Producer({ bootstrap: listener(cluster, 'SASL_PLAINTEXT'), clientId: 'kafka-wire-no-sasl', maxBlockMs: 30_000 });
      try {
        const started = Date.now();
        for (const attempt of [() => producer.connect(), () => producer.send({ topic: 'never-written', value: 'x' })]) {
          const err = await attempt().then(() => undefined, (e: unknown) => e);
          expect(err).toBeInstanceOf(AuthenticationError);
          expect(err).toMatchObject({ reason: 'mechanism', retriable: false });
          expect((err as AuthenticationError).enabledMechanisms).toEqual(expect.arrayContaining(['PLAIN', 'SCRAM-SHA-256']));
          expect((err as Error).message).toMatch(/^127\.0\.0\.1:\d+ is a SASL listener \(it offers .*PLAIN.*\) and the producer has no `sasl` option/);
          expect(((err as Error).cause as Error).message).toMatch(/closed by the broker at its first request after ApiVersions \(Metadata v\d+\), unanswered/);
        }
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        await producer.close({ timeoutMs: 1000 });
      }
      // That the reconnects back off (rather than every retryBackoffMs) is brokers.test.ts's, on a fake clock.
    });

    it('TLS to a plaintext listener: the error says it answers Kafka without TLS, at once', () =>
      expectFailsFast(listener(cluster, 'SASL_PLAINTEXT'), { tls: true }, (err) => {
        expect(err.reason).toBe('tls');
        expect(err.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: the other end closed the connection, and it answers Kafka without TLS on that port \(a PLAINTEXT or SASL_PLAINTEXT listener/);
      }));

    it('a mechanism the listener does not enable (and one kafka-wire does not know)', async () => {
      await expectFailsFast(listener(cluster, 'OAUTH'), { sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: SECRET } }, (err) => {
        expect(err).toMatchObject({ reason: 'mechanism', errorCode: 33, enabledMechanisms: ['OAUTHBEARER'] });
        expect(err.message).toMatch(/SCRAM-SHA-512 is not enabled on 127\.0\.0\.1:\d+; the broker offers OAUTHBEARER/);
      });
      expect(() => new Producer({ bootstrap: listener(cluster, 'SASL_PLAINTEXT'), sasl: { mechanism: 'GSSAPI' } as never })).toThrow(ConfigError);
    });

    it.skipIf(!ssl)('a certificate from the wrong CA', () =>
      expectFailsFast(listener(cluster, 'SSL'), { tls: { ca: cluster.security!.certificates!.wrongCa.cert } }, (err) => {
        expect(err.reason).toBe('certificate');
        expect(err.message).toMatch(/^certificate verify failed: /);
      }));

    it.skipIf(!ssl)('the wrong host name', () =>
      expectFailsFast(listener(cluster, 'SASL_SSL'), { tls: { ...tls, servername: 'kafka.wrong-host.test' }, sasl: { mechanism: 'PLAIN', username: USER, password: SECRET } }, (err) => {
        expect(err.reason).toBe('hostname');
        expect(err.message).toMatch(/^host name mismatch: .*kafka\.wrong-host\.test/);
      }));

    it.skipIf(!ssl)('no client certificate where the broker requires one', () =>
      expectFailsFast(listener(cluster, 'MTLS'), { tls }, (err) => {
        expect(err.reason).toBe('tls');
        expect(err.message).toMatch(/requires a client certificate/);
      }));

    it.skipIf(!ssl)('plaintext to a TLS listener: the error says the other end answers in TLS', async () => {
      const err = await BrokerConnection.open({ ...parseBootstrap(listener(cluster, 'SSL'))[0]!, connectTimeoutMs: 5_000, requestTimeoutMs: 5_000 }).then(
        async (b) => {
          await b.close();
          return undefined;
        },
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err!.message).toMatch(/the other end answers in TLS \(a TLS listener: give the producer its `tls` option\)$/);
      // And a producer's send() fails with it at once: waiting cannot make TLS plaintext.
      const producer = new Producer({ bootstrap: listener(cluster, 'SSL'), clientId: 'kafka-wire-plain-to-tls', maxBlockMs: 30_000 });
      try {
        const started = Date.now();
        const sent = await producer.send({ topic: 'never-written', value: 'x' }).catch((e: unknown) => e);
        expect(sent).toBeInstanceOf(ProtocolError);
        expect((sent as Error).message).toMatch(/answers in TLS/);
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        await producer.close({ timeoutMs: 1000 });
      }
    });

    it.skipIf(!ssl)('turning verification off works, and warns exactly once', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        for (let i = 0; i < 2; i++) {
          const b = await BrokerConnection.open({ ...parseBootstrap(listener(cluster, 'SSL'))[0]!, tls: { rejectUnauthorized: false } });
          await b.close();
        }
        const ours = warn.mock.calls.filter((call) => (call[1] as { code?: string } | undefined)?.code === 'KAFKA_WIRE_TLS_INSECURE');
        expect(ours).toHaveLength(1);
        expect(String(ours[0]![0])).toMatch(/verification is disabled/);
      } finally {
        warn.mockRestore();
      }
    });
  });

  it.skipIf(!ssl)('no secret in debug output, diagnostics events, errors or inspected objects', async () => {
    const token = unsignedJwt(USER, 3600, { marker: `S3cr3t-T0k3n-${randomBytes(4).toString('hex')}` });
    const badToken = unsignedJwt(USER, -60, { marker: `S3cr3t-B4d-${randomBytes(4).toString('hex')}` });
    const certs = cluster.security!.certificates!;
    const input: ProbeInput = {
      listeners: cluster.security!.listeners as Record<string, string>,
      ca: certs.ca.cert,
      clientCert: certs.client.cert,
      clientKey: certs.client.key,
      wrongCa: certs.wrongCa.cert,
      user: USER,
      password: SECRET,
      wrongPassword: WRONG,
      token,
      badToken,
      channels: await diagnosticsChannels(),
      busyMs: REAUTH_MS + 1_000,
    };
    const output = await runProbe(input);
    // The capture works: debug lines, authentications, re-authentications, events and errors are all there.
    expect(output).toMatch(/KAFKA-WIRE \d+: .*authenticated with SCRAM-SHA-256/);
    expect(output).toMatch(/re-authenticated with SCRAM-SHA-256/);
    expect(output).toMatch(/channel kafka-wire:sasl:authenticate/);
    expect(output).toMatch(/AuthenticationError/);
    expect(output).toContain('probe done');

    const keyBody = certs.client.key.split('\n').filter((line) => line && !line.startsWith('-----'));
    const secrets = [SECRET, WRONG, token, badToken, token.split('.')[1]!, badToken.split('.')[1]!, ...keyBody];
    for (const secret of secrets) {
      for (const form of [secret, Buffer.from(secret).toString('hex'), Buffer.from(secret).toString('base64')]) {
        expect(output.includes(form), `a secret (${secret.slice(0, 12)}...) appears in the output`).toBe(false);
      }
    }
  });

  it('re-authenticates a busy connection in place: every record delivered, in order, on one connection', async () => {
    const bootstrap = listener(cluster, 'SASL_PLAINTEXT');
    const topic = uniqueTopic('sec-reauth');
    const events: AuthenticateEvent[] = [];
    const onAuth = (m: unknown): void => void events.push(m as AuthenticateEvent);
    subscribe(AUTHENTICATE_CHANNEL.name, onAuth);
    const producer = new Producer({ bootstrap, clientId: 'kafka-wire-reauth', lingerMs: 2, sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: SECRET } });
    const sent: string[] = [];
    try {
      const { connects } = await countingConnects(async () => {
        const pending: Promise<unknown>[] = [];
        for (const until = Date.now() + 10_000; Date.now() < until; ) {
          for (let i = 0; i < 20; i++) {
            const value = `r${sent.length}`;
            sent.push(value);
            pending.push(producer.send({ topic, value }));
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        await Promise.all(pending);
        await producer.flush();
      });
      expect(connects).toBe(1);
    } finally {
      await producer.close();
      unsubscribe(AUTHENTICATE_CHANNEL.name, onAuth);
    }
    const mine = events.filter((e) => e.broker === bootstrap);
    expect(mine.filter((e) => e.error)).toEqual([]);
    expect(mine.filter((e) => !e.reauthentication)).toHaveLength(1);
    expect(mine.filter((e) => e.reauthentication).length).toBeGreaterThanOrEqual(2);
    expect(mine.every((e) => e.sessionLifetimeMs > 0 && e.sessionLifetimeMs <= REAUTH_MS)).toBe(true);

    const reader = await BrokerConnection.open({ ...parseBootstrap(bootstrap)[0]!, sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: SECRET } });
    try {
      const { records } = await readPartition(reader, { topic, partition: 0 });
      expect(records.map((r) => r.value?.toString())).toEqual(sent);
    } finally {
      await reader.close();
    }
  }, 40_000);
});

describe.skipIf(!runs('3.9.2'))('security against Kafka 3.9.2 (smoke)', () => {
  let cluster: KafkaCluster;
  beforeAll(async () => {
    cluster = await startCluster({
      version: '3.9.2',
      name: `security-3.9.2-${process.pid}`,
      security: { sasl: true, ssl, oauth: true, users: [{ name: USER, password: SECRET }] },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('SCRAM-SHA-512 over plaintext and OAUTHBEARER', async () => {
    await produceAndReadBack(listener(cluster, 'SASL_PLAINTEXT'), { sasl: { mechanism: 'SCRAM-SHA-512', username: USER, password: SECRET } }, '3.9 scram');
    await produceAndReadBack(listener(cluster, 'OAUTH'), { sasl: { mechanism: 'OAUTHBEARER', token: () => unsignedJwt(USER) } }, '3.9 oauth');
  });

  it.skipIf(!ssl)('SCRAM-SHA-256 over TLS, and mutual TLS', async () => {
    const certs = cluster.security!.certificates!;
    await produceAndReadBack(listener(cluster, 'SASL_SSL'), { tls: { ca: certs.ca.cert }, sasl: { mechanism: 'SCRAM-SHA-256', username: USER, password: SECRET } }, '3.9 scram tls');
    await produceAndReadBack(listener(cluster, 'MTLS'), { tls: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } }, '3.9 mtls');
  });

  it.skipIf(!ssl)('kafka-wire produce over SASL_SSL from command-line flags (password from the environment)', async () => {
    const certs = cluster.security!.certificates!;
    const dir = await mkdtemp(path.join(tmpdir(), 'kw-cli-'));
    const caFile = path.join(dir, 'ca.pem');
    await writeFile(caFile, certs.ca.cert);
    const security = securityFromFlags(
      { 'tls-ca': caFile, 'sasl-mechanism': 'SCRAM-SHA-256', 'sasl-username': USER },
      { KAFKA_WIRE_SASL_PASSWORD: SECRET },
    );
    const topic = `cli-secure-${Date.now()}`;
    let report = '';
    const code = await produceCommand({
      bootstrap: listener(cluster, 'SASL_SSL'),
      topic,
      ...security,
      input: Readable.from(['one\n', 'two\n']),
      out: new Writable({ write: (chunk, _enc, done) => ((report += String(chunk)), done()) }),
    });
    expect(code).toBe(0);
    expect(report).toMatch(/^2 of 2 records delivered/);
    expect(() => securityFromFlags({ 'sasl-mechanism': 'PLAIN', 'sasl-username': USER }, {})).toThrow(/KAFKA_WIRE_SASL_PASSWORD/);
    await rm(dir, { recursive: true, force: true });
  });

  it('a wrong PLAIN password is an AuthenticationError with the broker\'s message', async () => {
    const err = await BrokerConnection.open({ ...parseBootstrap(listener(cluster, 'SASL_PLAINTEXT'))[0]!, sasl: { mechanism: 'PLAIN', username: USER, password: WRONG } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ reason: 'credentials', errorCode: 58, retriable: false });
    expect((err as Error).message).toMatch(/Invalid username or password/);
    expect((err as Error).message).not.toContain(WRONG);
  });
});

/** Every `kafka-wire:*` diagnostics channel the sources declare, so a new one is probed too. */
async function diagnosticsChannels(): Promise<string[]> {
  const names = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (entry.name.endsWith('.ts')) for (const m of (await readFile(file, 'utf8')).matchAll(/channel\('(kafka-wire:[^']+)'\)/g)) names.add(m[1]!);
    }
  };
  await walk(path.resolve('src'));
  return [...names];
}

function runProbe(input: ProbeInput): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/security/fixtures/leak-probe.ts')], {
      env: { ...process.env, NODE_DEBUG: 'kafka-wire', KAFKA_WIRE_PROBE: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`leak probe exited with ${code}:\n${output.slice(-4000)}`));
    });
  });
}
