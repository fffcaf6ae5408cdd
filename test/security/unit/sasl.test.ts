/**
 * SASL and TLS pieces that need no broker: SCRAM against the RFC 7677 example, the
 * checks a hostile or confused server must fail, secret redaction, and, against a fake
 * broker that is strict about KIP-368, that re-authentication never lets another request
 * in between its SaslHandshake and its last SaslAuthenticate.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type * as net from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, ConfigError, KafkaWireError } from '../../../src/errors.js';
import { BrokerConnection } from '../../../src/net/broker-connection.js';
import { CONNECT_CHANNEL } from '../../../src/net/connection.js';
import { AUTHENTICATE_CHANNEL, reauthenticationDelay, type AuthenticateEvent } from '../../../src/net/sasl/index.js';
import { clientFinal, clientFirstBare, saslName, verifyServerFinal } from '../../../src/net/sasl/scram.js';
import { resolveTls, SaslConfig } from '../../../src/net/security.js';
import { Brokers, dialBroker } from '../../../src/producer/brokers.js';
import { systemClock } from '../../../src/producer/clock.js';
import { resolveOptions } from '../../../src/producer/options.js';
import type { AnyApi } from '../../../src/protocol/api.js';
import { ApiVersions, SaslAuthenticate, SaslHandshake } from '../../../src/protocol/apis/index.js';
import { Writer } from '../../../src/protocol/writer.js';
import { apiVersionsBody, fakeServer, responseFrame, type FakeServer, type ReceivedRequest } from '../../helpers/fake-server.js';

describe('SCRAM (RFC 5802 / 7677)', () => {
  // RFC 7677 section 3: user "user", password "pencil".
  const clientNonce = 'rOprNGfwEbeRWgbNEkqO';
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

  it('computes the RFC 7677 client proof and expects its server signature', async () => {
    expect(clientFirstBare('user', clientNonce)).toBe('n=user,r=rOprNGfwEbeRWgbNEkqO');
    const proof = await clientFinal({ hash: 'sha256', username: 'user', password: 'pencil', clientNonce }, serverFirst);
    expect(proof.clientFinal).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', proof.serverSignature)).not.toThrow();
  });

  it('refuses a server signature that does not match, and says so without the password', async () => {
    const proof = await clientFinal({ hash: 'sha256', username: 'user', password: 'pencil', clientNonce }, serverFirst);
    const err = (() => {
      try {
        verifyServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', proof.serverSignature);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).reason).toBe('server-signature');
    expect((err as Error).message).not.toContain('pencil');
  });

  it('refuses a server nonce that does not extend ours, and a downgraded iteration count', async () => {
    const steps = { hash: 'sha256' as const, username: 'user', password: 'pencil', clientNonce };
    await expect(clientFinal(steps, 'r=someoneelse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).rejects.toThrow(/nonce/);
    await expect(clientFinal(steps, `r=${clientNonce}xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1024`)).rejects.toThrow(/1024 iterations/);
    await expect(clientFinal(steps, `m=ext,r=${clientNonce}xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)).rejects.toThrow(/extension/);
  });

  it('escapes = and , in user names', () => {
    expect(saslName('a=b,c')).toBe('a=3Db=2Cc');
  });
});

describe('secrets stay out of sight', () => {
  const password = 'S3cr3t-Pa55-unit-7d1f';
  const token = 'eyJhbGciOiJub25lIn0.S3cr3t-T0k3n-unit.';

  it('a SaslConfig shows mechanism and user, never the password or token', () => {
    for (const config of [
      SaslConfig.from({ mechanism: 'SCRAM-SHA-512', username: 'alice', password }),
      SaslConfig.from({ mechanism: 'PLAIN', username: 'alice', password }),
      SaslConfig.from({ mechanism: 'OAUTHBEARER', token: () => token }),
    ]) {
      const shown = [inspect(config, { depth: 10, showHidden: true }), JSON.stringify(config), String(config), `${config}`, inspect({ nested: { config } }, { depth: 10 })];
      for (const text of shown) {
        expect(text).not.toContain(password);
        expect(text).not.toContain(token);
      }
      expect(inspect(config)).toContain(config.mechanism);
    }
  });

  it('resolved producer options redact the password and the TLS private key', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nS3cr3t-K3y-unit\n-----END PRIVATE KEY-----';
    const o = resolveOptions({ bootstrap: '127.0.0.1:9092', tls: { ca: 'CA', key, cert: 'CERT', passphrase: 'S3cr3t-Pass-unit' }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password } });
    const shown = inspect(o, { depth: 10 }) + JSON.stringify(o);
    for (const secret of [password, 'S3cr3t-K3y-unit', 'S3cr3t-Pass-unit']) expect(shown).not.toContain(secret);
    // tls.connect still gets the real key: only what is shown is redacted.
    expect(o.tls?.key).toBe(key);
    expect({ ...o.tls }.key).toBe(key);
  });

  it('config errors name the problem, never the value of a secret', () => {
    expect(() => SaslConfig.from({ mechanism: 'GSSAPI', username: 'a', password } as never)).toThrow(ConfigError);
    expect(() => SaslConfig.from({ mechanism: 'PLAIN', username: '', password } as never)).toThrow(/username/);
    expect(() => SaslConfig.from({ mechanism: 'PLAIN', username: 'a', password: `${password}\0` })).toThrow(/NUL/);
    expect(() => SaslConfig.from({ mechanism: 'SCRAM-SHA-256', username: 'a', password, token: () => 'x' } as never)).toThrow(/token/);
    try {
      SaslConfig.from({ mechanism: 'PLAIN', username: 'a', password: `${password}\0` });
    } catch (e) {
      expect(inspect(e)).not.toContain(password);
    }
    expect(() => resolveTls('yes' as never)).toThrow(ConfigError);
  });

  it('an OAUTHBEARER token with a lifetime is reused until 80% of it has passed', async () => {
    let calls = 0;
    const config = SaslConfig.from({ mechanism: 'OAUTHBEARER', token: async () => ({ value: `t${++calls}`, lifetimeMs: 1000 }) });
    expect(await config.token(0)).toBe('t1');
    expect(await config.token(799)).toBe('t1');
    expect(await config.token(800)).toBe('t2');
    const failing = SaslConfig.from({ mechanism: 'OAUTHBEARER', token: () => Promise.reject(new Error('idp down')) });
    await expect(failing.token()).rejects.toMatchObject({ reason: 'token', code: 'KAFKA_WIRE_AUTHENTICATION' });
    await expect(SaslConfig.from({ mechanism: 'OAUTHBEARER', token: () => '' }).token()).rejects.toBeInstanceOf(AuthenticationError);
  });
});

describe('re-authentication timing', () => {
  it('falls between 85% and 95% of the session lifetime', () => {
    expect(reauthenticationDelay(10_000, 0)).toBe(8_500);
    expect(reauthenticationDelay(10_000, 0.999999)).toBe(9_499);
  });
});

// ---- a fake broker that is strict about KIP-368 --------------------------------------------

function reply(api: AnyApi, version: number, req: ReceivedRequest, body: Record<string, unknown>): Buffer {
  const codec = api.responseCodec(version);
  const w = new Writer(codec.size(body as never));
  codec.write(w, body as never);
  // Flexible responses carry header v1 (an empty tagged-field section), ApiVersions excepted.
  const flexibleHeader = api.isFlexible(version) && api.key !== ApiVersions.key;
  return responseFrame(req.correlationId, flexibleHeader ? Buffer.concat([Buffer.from([0]), w.finish()]) : w.finish());
}

interface StrictBroker {
  server: FakeServer;
  violations: string[];
  handshakes: number;
}

/** The mechanism a SaslHandshake request names: after the v1 header (key, version, correlation id, client id). */
function handshakeMechanism(frame: Buffer): string {
  const clientIdLength = frame.readInt16BE(8);
  const at = 10 + Math.max(clientIdLength, 0);
  return frame.subarray(at + 2, at + 2 + frame.readInt16BE(at)).toString('utf8');
}

/**
 * Answers ApiVersions, SaslHandshake v1 and SaslAuthenticate (PLAIN, any password but
 * "wrong"), granting `lifetimeMs` sessions. Anything but SaslAuthenticate between a
 * handshake and its authentication is recorded as a violation, as a real broker would
 * close the connection for it. Answers come a little late, so requests pile up.
 */
async function strictBroker(lifetimeMs: number, mechanisms = ['PLAIN']): Promise<StrictBroker> {
  const authenticating = new WeakSet<net.Socket>();
  const broker: StrictBroker = { server: undefined as unknown as FakeServer, violations: [], handshakes: 0 };
  broker.server = await fakeServer((req, socket) => {
    const later = (frame: Buffer): void => void setTimeout(() => socket.write(frame), 2);
    if (authenticating.has(socket) && req.apiKey !== SaslAuthenticate.key) broker.violations.push(`api ${req.apiKey} during authentication`);
    if (req.apiKey === ApiVersions.key) {
      // Only v0, so the client takes the KIP-511 step down first, as with an old broker.
      const body = req.apiVersion > 0 ? apiVersionsBody(0, 35, [[18, 0, 0]]) : apiVersionsBody(0, 0, [[18, 0, 0], [17, 0, 1], [36, 0, 2]]);
      later(responseFrame(req.correlationId, body));
    } else if (req.apiKey === SaslHandshake.key) {
      broker.handshakes++;
      authenticating.add(socket);
      const known = mechanisms.includes(handshakeMechanism(req.frame));
      later(reply(SaslHandshake, req.apiVersion, req, { errorCode: known ? 0 : 33, mechanisms }));
    } else if (req.apiKey === SaslAuthenticate.key) {
      authenticating.delete(socket);
      const refused = req.frame.includes(Buffer.from('\0wrong'));
      later(
        reply(SaslAuthenticate, req.apiVersion, req, {
          errorCode: refused ? 58 : 0,
          errorMessage: refused ? 'Authentication failed: Invalid username or password' : null,
          authBytes: Buffer.alloc(0),
          sessionLifetimeMs: refused ? 0n : BigInt(lifetimeMs),
        }),
      );
    }
  });
  return broker;
}

describe('re-authentication against a strict fake broker', () => {
  let broker: StrictBroker | undefined;
  afterEach(async () => {
    await broker?.server.close();
    broker = undefined;
  });

  it('re-authenticates on the same connection while requests keep flowing, and lets none in between', async () => {
    broker = await strictBroker(300);
    const events: AuthenticateEvent[] = [];
    const onEvent = (m: unknown): void => void events.push(m as AuthenticateEvent);
    subscribe(AUTHENTICATE_CHANNEL.name, onEvent);
    try {
      const conn = await BrokerConnection.open({ host: broker.server.host, port: broker.server.port, sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } });
      const until = Date.now() + 1_200;
      let answered = 0;
      while (Date.now() < until) {
        const burst = await Promise.all(Array.from({ length: 7 }, () => conn.connection.send(ApiVersions, 0, {})));
        answered += burst.length;
      }
      await conn.close();
      expect(broker.violations).toEqual([]);
      // 1 200 ms with 300 ms sessions renewed at 255-285 ms: at least three renewals.
      expect(events.filter((e) => e.reauthentication && !e.error).length).toBeGreaterThanOrEqual(3);
      expect(broker.handshakes).toBe(events.length);
      expect(broker.server.requests.length).toBeGreaterThan(answered);
    } finally {
      unsubscribe(AUTHENTICATE_CHANNEL.name, onEvent);
    }
  });

  it('wrong credentials: an AuthenticationError with the broker\'s message, not retriable', async () => {
    broker = await strictBroker(0);
    const err = await BrokerConnection.open({ host: broker.server.host, port: broker.server.port, sasl: { mechanism: 'PLAIN', username: 'u', password: 'wrong' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ reason: 'credentials', errorCode: 58, retriable: false, code: 'KAFKA_WIRE_AUTHENTICATION' });
    expect((err as Error).message).toMatch(/SASL_AUTHENTICATION_FAILED \(58\): Authentication failed: Invalid username or password/);
    expect((err as KafkaWireError).broker).toBe(`127.0.0.1:${broker.server.port}`);
  });

  it('a mechanism the broker does not enable: the error lists what it does', async () => {
    broker = await strictBroker(0, ['SCRAM-SHA-512', 'PLAIN']);
    const err = await BrokerConnection.open({ host: broker.server.host, port: broker.server.port, sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'mechanism', errorCode: 33, enabledMechanisms: ['SCRAM-SHA-512', 'PLAIN'] });
    expect((err as Error).message).toMatch(/SCRAM-SHA-256 is not enabled .* offers SCRAM-SHA-512, PLAIN/);
  });
});

describe('a producer connection refused by the broker', () => {
  it('hands the AuthenticationError to every caller during the backoff instead of reconnecting', async () => {
    const broker = await strictBroker(0);
    let connects = 0;
    const onConnect = (): void => void connects++;
    subscribe(CONNECT_CHANNEL.name, onConnect);
    try {
      const options = resolveOptions({ bootstrap: `127.0.0.1:${broker.server.port}`, retryBackoffMaxMs: 300, sasl: { mechanism: 'PLAIN', username: 'u', password: 'wrong' } });
      const brokers = new Brokers(options, dialBroker, systemClock, new AbortController().signal, () => new Map());
      const first = await brokers.any().catch((e: unknown) => e);
      expect(first).toBeInstanceOf(AuthenticationError);
      for (let i = 0; i < 20; i++) expect(await brokers.any().catch((e: unknown) => e)).toBe(first);
      expect(connects).toBe(1);
      await new Promise((r) => setTimeout(r, 350));
      expect(await brokers.any().catch((e: unknown) => e)).toBeInstanceOf(AuthenticationError);
      expect(connects).toBe(2);
    } finally {
      unsubscribe(CONNECT_CHANNEL.name, onConnect);
      await broker.server.close();
    }
  });
});
