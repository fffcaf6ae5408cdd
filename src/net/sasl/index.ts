/**
 * SASL on a Kafka connection (KIP-152): after ApiVersions, SaslHandshake v1 names the
 * mechanism, then each SASL token travels in a SaslAuthenticate request until the
 * mechanism is satisfied. Only then may other requests follow.
 *
 * Re-authentication (KIP-368): when SaslAuthenticate v1+ reports a session lifetime,
 * the broker closes the connection on the first ordinary request after it. We run the
 * same handshake again on the same connection at 85-95% of the lifetime (jittered, as
 * the Java client does, so a fleet of connections does not re-authenticate in step).
 *
 * Why on the same connection, rather than opening a fresh one and swapping: one TCP
 * stream keeps the order of Produce requests (an idempotent producer's sequences, and
 * without idempotence, the order of records) and needs no second socket or hand-over.
 * The broker takes nothing but SaslAuthenticate between the re-authentication's
 * handshake and its last token, so the connection is held for that moment: requests
 * already written are answered first (the broker answers in order), new ones wait in the
 * connection's queue and go out, in order, as soon as the broker has accepted the new
 * session. Nothing is dropped; at worst a request waits one round trip or two.
 */
import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { AuthenticationError, BrokerError, KafkaWireError, UnsupportedVersionError } from '../../errors.js';
import { SaslAuthenticate } from '../../protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../../protocol/apis/sasl-handshake.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { BrokerConnection } from '../broker-connection.js';
import type { SaslConfig } from '../security.js';
import type { SaslExchange } from './mechanism.js';
import { oauthBearerExchange } from './oauthbearer.js';
import { plainExchange } from './plain.js';
import { scramExchange } from './scram.js';

const debug = debuglog('kafka-wire');

/**
 * Published after every authentication and re-authentication, successful or not:
 * `{ broker, mechanism, reauthentication, sessionLifetimeMs, durationMs, error? }`.
 * Never carries a credential.
 */
export const AUTHENTICATE_CHANNEL = channel('kafka-wire:sasl:authenticate');

export interface AuthenticateEvent {
  broker: string;
  mechanism: string;
  reauthentication: boolean;
  /** 0 when the broker set none (connections.max.reauth.ms unset, or SaslAuthenticate v0). */
  sessionLifetimeMs: number;
  durationMs: number;
  error?: Error;
}

/** The client side of the mechanism `config` names. */
export function exchangeFor(config: SaslConfig): SaslExchange {
  switch (config.mechanism) {
    case 'PLAIN':
      return plainExchange(config);
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return scramExchange(config);
    case 'OAUTHBEARER':
      return oauthBearerExchange(config);
  }
}

/**
 * Runs SaslHandshake and the SaslAuthenticate exchange; resolves with the session
 * lifetime the broker granted (0: none). Throws an AuthenticationError with the broker's
 * own message when it refuses.
 */
export async function authenticate(broker: BrokerConnection, config: SaslConfig, reauthentication = false): Promise<number> {
  const started = Date.now();
  const event: AuthenticateEvent = { broker: broker.address, mechanism: config.mechanism, reauthentication, sessionLifetimeMs: 0, durationMs: 0 };
  try {
    event.sessionLifetimeMs = await exchange(broker, config, reauthentication);
    debug(
      '%s: %s with %s%s; session lifetime %s',
      broker.address,
      reauthentication ? 're-authenticated' : 'authenticated',
      config.mechanism,
      config.username !== undefined ? ` as ${config.username}` : '',
      event.sessionLifetimeMs > 0 ? `${event.sessionLifetimeMs} ms` : 'unlimited',
    );
    return event.sessionLifetimeMs;
  } catch (err) {
    event.error = err as Error;
    // AuthenticationError messages already name the broker and mechanism; others (a closed socket) need them.
    const message = (err as Error).message;
    if (err instanceof AuthenticationError) debug('%s', message);
    else debug('%s: SASL %s with %s failed: %s', broker.address, reauthentication ? 're-authentication' : 'authentication', config.mechanism, message);
    throw err;
  } finally {
    event.durationMs = Date.now() - started;
    if (AUTHENTICATE_CHANNEL.hasSubscribers) AUTHENTICATE_CHANNEL.publish(event);
  }
}

async function exchange(broker: BrokerConnection, config: SaslConfig, reauthentication: boolean): Promise<number> {
  const where = broker.address;
  const send = { pastHold: reauthentication };
  const handshakeVersion = broker.versionFor(SaslHandshake);
  if (handshakeVersion !== 1) {
    // v0 sends the tokens raw, outside Kafka framing; every broker since 1.0 has v1.
    throw new UnsupportedVersionError(`${where} does not offer SaslHandshake v1 (KIP-152), which kafka-wire needs for SASL`, {
      broker: where,
      api: 'SaslHandshake',
    });
  }
  const handshake = await broker.connection.send(SaslHandshake, 1, { mechanism: config.mechanism }, send);
  if (handshake.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    const offered = handshake.mechanisms.length > 0 ? handshake.mechanisms.join(', ') : 'none';
    throw new AuthenticationError(`SASL mechanism ${config.mechanism} is not enabled on ${where}; the broker offers ${offered}`, {
      reason: 'mechanism',
      broker: where,
      api: 'SaslHandshake v1',
      errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
      enabledMechanisms: handshake.mechanisms,
    });
  }
  if (handshake.errorCode !== ErrorCode.NONE) {
    const kafka = new BrokerError(handshake.errorCode, { broker: where, api: 'SaslHandshake v1' });
    const hint = handshake.errorCode === ErrorCode.ILLEGAL_SASL_STATE ? ' (is this a SASL listener? its security protocol may be PLAINTEXT or SSL)' : '';
    throw new AuthenticationError(`SASL handshake with ${where} failed: ${kafka.type}${hint}`, {
      reason: 'sasl',
      broker: where,
      api: 'SaslHandshake v1',
      errorCode: handshake.errorCode,
      cause: kafka,
    });
  }

  const version = broker.requireVersion(SaslAuthenticate);
  const api = `SaslAuthenticate v${version}`;
  const mechanism = exchangeFor(config);
  let token: Buffer | undefined = await mechanism.start();
  // Every mechanism here finishes in at most three rounds; a broker that goes on is broken.
  for (let round = 0; round < 10; round++) {
    const response = await broker.connection.send(SaslAuthenticate, version, { authBytes: token }, send);
    if (response.errorCode !== ErrorCode.NONE) {
      const name = new BrokerError(response.errorCode).type;
      const as = config.username !== undefined ? ` as ${JSON.stringify(config.username)}` : '';
      throw new AuthenticationError(
        `SASL ${config.mechanism} ${reauthentication ? 're-authentication' : 'authentication'}${as} to ${where} failed: ${name} (${response.errorCode})${response.errorMessage ? `: ${response.errorMessage}` : ''}`,
        { reason: response.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED ? 'credentials' : 'sasl', broker: where, api, errorCode: response.errorCode },
      );
    }
    token = await mechanism.next(response.authBytes);
    if (token === undefined) return Number(response.sessionLifetimeMs);
  }
  throw new AuthenticationError(`SASL ${config.mechanism} with ${where} did not finish in 10 rounds`, { reason: 'sasl', broker: where, api });
}

/** Where in the session lifetime to re-authenticate: 85-95%, jittered. */
export function reauthenticationDelay(sessionLifetimeMs: number, random = Math.random()): number {
  return Math.floor(sessionLifetimeMs * (0.85 + 0.1 * random));
}

/**
 * Authenticates `broker` and keeps it authenticated: re-authenticates before each
 * session expires, for as long as the connection is open. A failed re-authentication
 * closes the connection with its error (its requests fail with it; the next connection
 * authenticates afresh).
 */
export async function startSaslSession(broker: BrokerConnection, config: SaslConfig): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const schedule = (lifetimeMs: number): void => {
    if (lifetimeMs <= 0 || !broker.connection.isOpen) return;
    // unref: a pending re-authentication must not keep the process alive by itself.
    timer = setTimeout(() => void reauthenticate(), reauthenticationDelay(lifetimeMs)).unref();
  };
  const reauthenticate = async (): Promise<void> => {
    timer = undefined;
    if (!broker.connection.isOpen) return;
    broker.connection.hold();
    try {
      schedule(await authenticate(broker, config, true));
    } catch (err) {
      broker.connection.destroy(err instanceof KafkaWireError ? err : new AuthenticationError(`SASL re-authentication failed: ${String(err)}`, { reason: 'sasl', broker: broker.address, cause: err }));
    } finally {
      broker.connection.release();
    }
  };
  void broker.connection.closed.then(() => clearTimeout(timer));
  schedule(await authenticate(broker, config, false));
}
