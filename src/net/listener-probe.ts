/**
 * Second connections that tell what kind of listener refused the first, when its refusal
 * alone cannot: a plaintext listener dialled with TLS only closes the connection, and so
 * does a SASL listener at the first request of a client that did not authenticate. A
 * broker restarting can close a connection too, so a close alone is retried; once a probe
 * shows the listener is not what was dialled, waiting cannot help and sends fail at once.
 *
 * Probes run only after such a close, on connections of their own that are always
 * destroyed, within a few seconds; any failure of the probe means "cannot tell".
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiVersions } from '../protocol/apis/api-versions.js';
import { Metadata } from '../protocol/apis/metadata.js';
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js';
import { Connection, type ConnectionOptions } from './connection.js';

/** A probe gives up after this long: it only makes an error clearer. */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * The mechanism a SASL probe asks for: none a broker enables, so the broker answers with
 * the ones it does and starts no authentication (its log shows this name).
 */
const PROBE_MECHANISM = 'KAFKA-WIRE-PROBE';

async function probe<T>(opts: ConnectionOptions, ask: (connection: Connection) => Promise<T>): Promise<T | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({
      ...opts,
      connectTimeoutMs: Math.min(opts.connectTimeoutMs ?? PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS),
      requestTimeoutMs: PROBE_TIMEOUT_MS,
    });
    return await ask(connection);
  } catch {
    return undefined;
  } finally {
    connection?.destroy();
  }
}

/** Whether the address answers ApiVersions in plaintext: a PLAINTEXT or SASL_PLAINTEXT listener. */
export async function answersWithoutTls(opts: ConnectionOptions): Promise<boolean> {
  const answer = await probe({ ...opts, tls: undefined }, (c) => c.send(ApiVersions, 0, {}));
  return answer !== undefined;
}

/**
 * The mechanisms the listener offers when it is a SASL listener (dialled with `opts.tls`
 * as configured); null when it showed it is not one (it answered without authentication);
 * undefined when the probe cannot tell.
 */
export async function saslMechanismsOffered(opts: ConnectionOptions): Promise<readonly string[] | null | undefined> {
  return probe<readonly string[] | null | undefined>(opts, async (c) => {
    const versions = await c.send(ApiVersions, 0, {});
    // Never a request the other end did not list (every Kafka broker lists SaslHandshake).
    const handshake = versions.apiKeys.find((k) => k.apiKey === SaslHandshake.key);
    if (!handshake || handshake.maxVersion < 1) return undefined;
    const answer = await c.send(SaslHandshake, 1, { mechanism: PROBE_MECHANISM });
    // A listener without SASL answers ILLEGAL_SASL_STATE: a handshake is not expected there.
    const sasl = answer.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM || answer.errorCode === ErrorCode.NONE;
    if (!sasl) return null;
    // Some brokers (franz-go's kfake) answer a handshake on a listener where SASL is optional.
    // A listener that requires it closes the connection at any other request before
    // authentication: one answered says the first close was something else (a restart).
    const metadata = versions.apiKeys.find((k) => k.apiKey === Metadata.key);
    if (metadata && (await answersUnauthenticated(opts, Math.min(metadata.maxVersion, Metadata.maxVersion)))) return null;
    return answer.mechanisms;
  });
}

/** Whether the listener answers a Metadata request (for no topic) before any authentication. */
async function answersUnauthenticated(opts: ConnectionOptions, version: number): Promise<boolean> {
  if (version < Metadata.minVersion || version < 1) return false;
  const answer = await probe(opts, (c) =>
    // For no topic: nothing is created, whatever the broker's auto-creation.
    c.send(Metadata, version, { topics: [] }),
  );
  return answer !== undefined;
}
