/**
 * One negotiated connection per broker, opened on first use, reopened after a failure
 * with backoff, and muted while the broker throttles us.
 *
 * Throttling (KIP-219): from the versions where the client must honour
 * `throttle_time_ms` itself, the broker answers at once and then stops reading our
 * socket for that long. We stop sending to that broker alone until the deadline, which
 * only ever moves forward (as Java's NetworkClient does); other brokers keep flowing.
 */
import { AuthenticationError } from '../errors.js';
import { BrokerConnection } from '../net/broker-connection.js';
import type { BrokerAddress } from '../net/bootstrap.js';
import type { AnyApi } from '../protocol/api.js';
import type { ResolvedOptions } from './options.js';

export class NodeConnection {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  nodeId: number;
  conn: BrokerConnection | undefined;
  #opening: Promise<BrokerConnection> | undefined;
  /** Epoch ms until which the broker asked us not to send (KIP-219). */
  throttledUntil = 0;
  throttleTimeMs = 0;
  /** Epoch ms before which we do not try to connect again. */
  reconnectAt = 0;
  failures = 0;
  /**
   * The last open's failure when it was an AuthenticationError. Until `reconnectAt`, every
   * caller gets it at once instead of a new connection: the same settings would only be
   * refused again, and a reconnect storm is what brokers rate-limit and alert on.
   */
  authError: AuthenticationError | undefined;

  constructor(address: BrokerAddress, nodeId: number) {
    this.host = address.host;
    this.port = address.port;
    this.address = `${address.host}:${address.port}`;
    this.nodeId = nodeId;
  }

  get ready(): boolean {
    return this.conn !== undefined && this.conn.connection.isOpen;
  }

  get inFlight(): number {
    return this.conn?.connection.inFlight ?? 0;
  }

  /** Honours a response's throttle_time_ms when its API version asks the client to. */
  noteThrottle(api: AnyApi, version: number, throttleTimeMs: number, now = Date.now()): boolean {
    if (throttleTimeMs <= 0 || api.clientThrottlesFrom === undefined || version < api.clientThrottlesFrom) return false;
    this.throttleTimeMs += throttleTimeMs;
    this.throttledUntil = Math.max(this.throttledUntil, now + throttleTimeMs);
    return true;
  }

  open(opts: ResolvedOptions): Promise<BrokerConnection> {
    if (this.ready) return Promise.resolve(this.conn!);
    if (this.authError && Date.now() < this.reconnectAt) return Promise.reject(this.authError);
    this.#opening ??= BrokerConnection.open({
      // Where to dial: the broker's advertised address, unless mapped (tunnels, proxies).
      ...(opts.mapBrokerAddress?.(this.host, this.port) ?? { host: this.host, port: this.port }),
      clientId: opts.clientId,
      connectTimeoutMs: opts.connectTimeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs,
      // The producer keeps its own count of requests per broker; the connection's queue
      // would only hide a full pipeline from it.
      maxInFlight: opts.maxInFlight + 1,
      tls: opts.tls,
      sasl: opts.sasl,
    }).then(
      (conn) => {
        this.conn = conn;
        this.failures = 0;
        this.authError = undefined;
        this.#opening = undefined;
        void conn.connection.closed.then(() => {
          if (this.conn === conn) this.conn = undefined;
        });
        return conn;
      },
      (err: unknown) => {
        this.failures++;
        this.authError = err instanceof AuthenticationError ? err : undefined;
        // Refused credentials or certificates wait the longest backoff at once.
        const backoff = this.authError ? opts.retryBackoffMaxMs : Math.min(opts.retryBackoffMaxMs, opts.retryBackoffMs * 2 ** Math.min(this.failures, 10));
        this.reconnectAt = Date.now() + backoff;
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  get opening(): boolean {
    return this.#opening !== undefined;
  }

  async close(timeoutMs: number): Promise<void> {
    const opening = this.#opening;
    if (opening) await opening.catch(() => undefined);
    await this.conn?.close(timeoutMs);
    this.conn = undefined;
  }
}
