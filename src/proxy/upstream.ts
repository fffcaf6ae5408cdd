/**
 * The proxy's connection to one upstream broker: TCP or TLS, then, with SASL, the
 * proxy's own ApiVersions, SaslHandshake v1 and SaslAuthenticate exchange (the
 * mechanisms of src/net/sasl/) before the socket is handed over for the client's frames.
 * The client talks plaintext to the proxy and never sees these requests.
 *
 * Not done: KIP-368 re-authentication. A broker with connections.max.reauth.ms closes the
 * connection when the session expires; the client then reconnects through the proxy.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { AuthenticationError, ConnectionError } from '../errors.js';
import type { AnyApi, RequestOf, ResponseOf } from '../protocol/api.js';
import { ApiVersions } from '../protocol/apis/api-versions.js';
import { Metadata } from '../protocol/apis/metadata.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js';
import { errorCodeInfo } from '../protocol/error-codes.js';
import { decodeResponse, encodeRequest } from '../protocol/frame.js';
import { exchangeFor } from '../net/sasl/index.js';
import { tlsFailure, warnIfInsecure, type SaslConfig } from '../net/security.js';
import { looksLike } from '../net/frame-reader.js';
import { Framer } from './framer.js';

export interface UpstreamOptions {
  host: string;
  port: number;
  tls?: tls.ConnectionOptions;
  sasl?: SaslConfig;
  connectTimeoutMs?: number;
}

/** Correlation ids of the proxy's own requests: out of the way of any client's. */
const FIRST_CORRELATION_ID = 0x7ffff000;

function sniName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

/** Opens (and, with SASL, authenticates) a socket to the broker; it comes back paused. */
export async function openUpstream(opts: UpstreamOptions): Promise<net.Socket> {
  const address = `${opts.host}:${opts.port}`;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    if (opts.tls) warnIfInsecure(opts.tls);
    const s = opts.tls
      ? tls.connect({ ...opts.tls, host: opts.host, port: opts.port, servername: opts.tls.servername ?? sniName(opts.host) })
      : net.connect({ host: opts.host, port: opts.port });
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const timer = setTimeout(() => fail(new ConnectionError(`connecting to ${address} timed out after ${timeoutMs} ms`, { broker: address })), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    };
    s.once('error', (err) => fail(tlsFailure(err, address, opts.tls) ?? new ConnectionError(`cannot connect to ${address}: ${err.message}`, { broker: address, cause: err })));
    s.once(opts.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      s.setNoDelay(true);
      resolve(s);
    });
  });
  if (!opts.sasl) {
    socket.pause();
    return socket;
  }
  try {
    await authenticate(socket, opts.sasl, address);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  socket.pause();
  return socket;
}

/**
 * Connects to the upstream broker once, as each client connection will, and asks it two
 * things: ApiVersions, and Metadata for no topic (a SASL listener answers the first before
 * authentication, then closes at the second). Throws a ConnectionError or an
 * AuthenticationError whose message says what the proxy's flags lack; the proxy's clients
 * would only see their connections closed, or (a TLS listener's bytes forwarded) be told to
 * give themselves TLS, which is the proxy's to speak.
 */
export async function checkUpstream(opts: UpstreamOptions): Promise<void> {
  const address = `${opts.host}:${opts.port}`;
  const socket = await openUpstream(opts);
  const closedHint = opts.sasl
    ? ''
    : opts.tls
      ? ' (a SASL listener? then give the proxy --sasl-mechanism and --sasl-username)'
      : ' (a TLS or SASL listener? then give the proxy --tls, or --sasl-mechanism and --sasl-username)';
  try {
    socket.resume();
    const send = requester(socket, address, (bytes) =>
      looksLike(bytes) === 'TLS' && !opts.tls ? `${address} answers in TLS: give the proxy --tls (or --tls-ca FILE); its clients still talk plaintext to it` : undefined,
    );
    const versions = await send(ApiVersions, 0, {});
    const theirs = versions.apiKeys.find((k) => k.apiKey === Metadata.key);
    if (versions.errorCode !== 0 || !theirs) return;
    const version = Math.min(theirs.maxVersion, Metadata.maxVersion);
    if (version < Math.max(theirs.minVersion, Metadata.minVersion)) return;
    await send(Metadata, version, { topics: [], ...(version >= 4 ? { allowAutoTopicCreation: false } : {}) });
  } catch (err) {
    // TLS 1.3 sends a refused client certificate's alert after the handshake, at the first read.
    const tlsError = err instanceof ConnectionError ? tlsFailure(err.cause, address, opts.tls) : undefined;
    if (tlsError) throw tlsError;
    if (err instanceof ConnectionError && / closed the connection during /.test(err.message)) {
      throw new ConnectionError(`${err.message}${closedHint}`, { broker: address, cause: err });
    }
    throw err;
  } finally {
    socket.destroy();
  }
}

/** One request at a time over a socket nobody else reads yet; `explain` may name what bytes that are no frame mean. */
function requester(socket: net.Socket, address: string, explain: (bytes: Buffer) => string | undefined = () => undefined) {
  let correlationId = FIRST_CORRELATION_ID;
  const framer = new Framer(16 * 1024 * 1024);
  return async <A extends AnyApi>(api: A, version: number, body: RequestOf<A>): Promise<ResponseOf<A>> => {
    const id = correlationId++;
    socket.write(encodeRequest(api, version, id, 'kafka-wire-proxy', body));
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const cleanup = (): void => {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('error', onError);
      };
      const onData = (chunk: Buffer): void => {
        const { frames, broken } = framer.push(chunk);
        if (broken) {
          cleanup();
          reject(new ConnectionError(explain(broken.bytes) ?? `${address} answered ${api.name} with bytes that are no Kafka frame: ${broken.reason}`, { broker: address }));
        } else if (frames.length > 0) {
          cleanup();
          resolve(frames[0]!);
        }
      };
      const onClose = (): void => {
        cleanup();
        reject(new ConnectionError(`${address} closed the connection during ${api.name}`, { broker: address }));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(new ConnectionError(`${address}: ${err.message}`, { broker: address, cause: err }));
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('error', onError);
    });
    return decodeResponse(api, version, frame.subarray(4));
  };
}

async function authenticate(socket: net.Socket, config: SaslConfig, address: string): Promise<void> {
  const send = requester(socket, address);
  // ApiVersions v0 is answered by every broker, and says which SaslAuthenticate it speaks.
  const versions = await send(ApiVersions, 0, {});
  const auth = versions.apiKeys.find((k) => k.apiKey === SaslAuthenticate.key);
  const authVersion = Math.min(auth?.maxVersion ?? 0, SaslAuthenticate.maxVersion);
  const handshake = await send(SaslHandshake, 1, { mechanism: config.mechanism });
  if (handshake.errorCode !== 0) {
    throw new AuthenticationError(`SASL handshake with ${address} failed: ${errorCodeInfo(handshake.errorCode).name} (it offers ${handshake.mechanisms.join(', ') || 'none'})`, {
      reason: 'mechanism',
      broker: address,
      errorCode: handshake.errorCode,
    });
  }
  const mechanism = exchangeFor(config);
  let token: Buffer | undefined = await mechanism.start();
  for (let round = 0; round < 10 && token !== undefined; round++) {
    const answer = await send(SaslAuthenticate, authVersion, { authBytes: token });
    if (answer.errorCode !== 0) {
      throw new AuthenticationError(
        `SASL ${config.mechanism} authentication to ${address} failed: ${errorCodeInfo(answer.errorCode).name}${answer.errorMessage ? `: ${answer.errorMessage}` : ''}`,
        { reason: 'credentials', broker: address, errorCode: answer.errorCode },
      );
    }
    token = await mechanism.next(answer.authBytes);
  }
  if (token !== undefined) throw new AuthenticationError(`SASL ${config.mechanism} with ${address} did not finish in 10 rounds`, { reason: 'sasl', broker: address });
}
