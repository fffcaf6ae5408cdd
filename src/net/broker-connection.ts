/**
 * A connection that knows which API versions both sides speak.
 *
 * On open it sends ApiVersions at the newest version we know; a broker that does not
 * know it answers UNSUPPORTED_VERSION with its own range (KIP-511) and we ask again at
 * the highest version both sides have. Every later request goes out at the highest
 * version of its API that both sides support. With `sasl`, it then authenticates
 * (sasl/index.ts) before anything else may be sent, and stays authenticated.
 */
import { AuthenticationError, BrokerError, ConnectionError, UnsupportedVersionError } from '../errors.js';
import type { AnyApi, RequestOf, ResponseOf } from '../protocol/api.js';
import { ApiVersions } from '../protocol/apis/api-versions.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Connection, type ConnectionOptions, type RequestOptions } from './connection.js';
import { answersWithoutTls, saslMechanismsOffered } from './listener-probe.js';
import { startSaslSession } from './sasl/index.js';
import { resolveSasl, resolveTls, type SaslConfig, type SaslOptions, type TlsOptions } from './security.js';

export interface BrokerConnectionOptions extends Omit<ConnectionOptions, 'tls'> {
  /** `true` for TLS with the system's CAs, or node:tls options; plaintext when absent. */
  tls?: TlsOptions;
  /** SASL after ApiVersions; see security.ts for the shapes. */
  sasl?: SaslOptions | SaslConfig;
}

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export interface BrokerFeatures {
  /** Finalized feature levels of the cluster, e.g. `transaction.version` (ApiVersions v3+). */
  readonly finalized: ReadonlyMap<string, { min: number; max: number }>;
  readonly finalizedEpoch: bigint;
}

export class BrokerConnection {
  readonly connection: Connection;
  /** What the broker said it supports, by API key. */
  readonly brokerVersions: ReadonlyMap<number, VersionRange>;
  readonly features: BrokerFeatures;
  /** The ApiVersions version the broker accepted. */
  readonly apiVersionsVersion: number;
  /** Responses the handshake took: ApiVersions (tried at lower versions too) and SASL. */
  #handshakeAnswers = Infinity;
  /**
   * Without SASL configured, until the broker answers past the handshake: how to dial the
   * listener again to ask whether it wants SASL, should it close at the first request.
   */
  #probeIfClosedAtFirstRequest: ConnectionOptions | undefined;
  /** The probe's explanation of the close at the first request, once asked for (it rejects with the error to keep). */
  #explained: Promise<never> | undefined;
  /** The probe's verdict: the error to fail with (a SASL listener), false (shown not to be one), undefined (cannot tell). */
  #saslRequired: Promise<AuthenticationError | false | undefined> | undefined;

  private constructor(connection: Connection, apiVersionsVersion: number, response: ResponseOf<typeof ApiVersions>) {
    this.connection = connection;
    this.apiVersionsVersion = apiVersionsVersion;
    this.brokerVersions = new Map(response.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
    this.features = {
      finalized: new Map(response.finalizedFeatures.map((f) => [f.name, { min: f.minVersionLevel, max: f.maxVersionLevel }])),
      finalizedEpoch: response.finalizedFeaturesEpoch,
    };
  }

  static async open(opts: BrokerConnectionOptions): Promise<BrokerConnection> {
    // Checked before connecting: a bad setting is a ConfigError, not a failed connection.
    const sasl = resolveSasl(opts.sasl);
    const tls = resolveTls(opts.tls);
    const connection = await Connection.connect({ ...opts, tls }).catch(async (err: unknown) => {
      // A plaintext listener reads the TLS ClientHello as a request far too big, and closes.
      if (tls && droppedDuringTlsHandshake(err) && (await answersWithoutTls({ ...opts, tls: undefined }))) {
        throw new AuthenticationError(
          `TLS handshake with ${err.broker} failed: the other end closed the connection, and it answers Kafka without TLS on that port (a PLAINTEXT or SASL_PLAINTEXT listener: leave out the \`tls\` option, or dial the TLS listener's port)`,
          { reason: 'tls', broker: err.broker, cause: err },
        );
      }
      throw err;
    });
    // Given up while negotiating: the half-open connection must not outlive the caller.
    const onAbort = (): void => connection.destroy();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let version = ApiVersions.maxVersion;
      for (;;) {
        const response = await connection.send(ApiVersions, version, {});
        if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION && version > 0) {
          const theirs = response.apiKeys.find((k) => k.apiKey === ApiVersions.key);
          const next = theirs ? Math.min(theirs.maxVersion, version - 1) : 0;
          version = Math.max(next, ApiVersions.minVersion);
          continue;
        }
        if (response.errorCode !== ErrorCode.NONE) {
          throw new BrokerError(response.errorCode, { broker: connection.address, api: `ApiVersions v${version}` });
        }
        const broker = new BrokerConnection(connection, version, response);
        if (sasl) await startSaslSession(broker, sasl);
        else {
          connection.closedAtFirstRequestHint = 'a SASL listener closes the connection of a client that did not authenticate this way: is this listener SASL_PLAINTEXT or SASL_SSL? then give the producer its `sasl` option';
          broker.#probeIfClosedAtFirstRequest = { ...opts, tls };
        }
        broker.#handshakeAnswers = connection.answered;
        if (opts.signal?.aborted) throw new ConnectionError(`connecting to ${connection.address} was given up`, { broker: connection.address, cause: opts.signal.reason });
        return broker;
      }
    } catch (err) {
      connection.destroy();
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  get address(): string {
    return this.connection.address;
  }

  /** False once the connection failed, closed or is closing. */
  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  /** Resolves once the socket is fully closed, however that happened. */
  get closed(): Promise<void> {
    return this.connection.closed;
  }

  /** Why the connection closed, if it did before answering anything past its handshake (ApiVersions, SASL). */
  get closedUnanswered(): Error | undefined {
    return this.connection.answered > this.#handshakeAnswers ? undefined : this.connection.endedBy;
  }

  /**
   * closedUnanswered after the probe a close at the first request starts has answered:
   * the SASL listener's AuthenticationError, or the close's error without its SASL hint when
   * a second connection was answered without SASL. What a broker link keeps for the
   * messages of later failures, which would otherwise repeat the hint.
   */
  async explainedClose(): Promise<Error | undefined> {
    const closed = this.closedUnanswered;
    const hint = this.connection.closedAtFirstRequestHint;
    // Only a close at a first request carries the hint (an idle connection closed says no more).
    if (!closed || this.#probeIfClosedAtFirstRequest === undefined || hint === undefined || !closed.message.endsWith(hint)) return closed;
    return this.#explain(closed).then(
      () => closed,
      (explained: unknown) => explained as Error,
    );
  }

  /** #whyClosedAtFirstRequest, once per connection for the close itself: the failed request and the broker link share one probe's verdict. */
  #explain(err: unknown): Promise<never> {
    if (err !== this.connection.endedBy) return this.#whyClosedAtFirstRequest(err);
    return (this.#explained ??= this.#whyClosedAtFirstRequest(err));
  }

  /** Sends at exactly `version` (negotiated by the caller, e.g. with versionFor). */
  send<A extends AnyApi>(api: A, version: number, body: RequestOf<A>, opts: RequestOptions = {}): Promise<ResponseOf<A>> {
    const answer = this.connection.send(api, version, body, opts);
    if (this.#probeIfClosedAtFirstRequest === undefined) return answer;
    if (this.connection.answered > this.#handshakeAnswers) {
      this.#probeIfClosedAtFirstRequest = undefined; // it answered: not a listener that wants SASL
      return answer;
    }
    return answer.catch((err: unknown) => this.#explain(err));
  }

  /**
   * The broker closed at the first request, unanswered, and no SASL was configured: when a
   * probe finds a SASL listener, an AuthenticationError that says so (sends then fail at
   * once); else the error as it was.
   */
  async #whyClosedAtFirstRequest(err: unknown): Promise<never> {
    const dial = this.#probeIfClosedAtFirstRequest;
    if (!dial || err !== this.connection.endedBy || this.connection.answered > this.#handshakeAnswers) throw err;
    this.#saslRequired ??= saslMechanismsOffered(dial).then((mechanisms) => {
      if (mechanisms === undefined) return undefined;
      if (mechanisms === null) return false;
      return new AuthenticationError(
        `${this.address} is a SASL listener (it offers ${mechanisms.join(', ') || 'no mechanism'}) and the producer has no \`sasl\` option: give it one with one of these mechanisms`,
        { reason: 'mechanism', broker: this.address, enabledMechanisms: mechanisms, cause: err },
      );
    });
    const verdict = await this.#saslRequired;
    if (verdict) throw verdict;
    // Not a SASL listener after all: the hint the close carried would send the user the wrong way.
    const hint = this.connection.closedAtFirstRequestHint;
    if (verdict === false && hint !== undefined && err instanceof ConnectionError && err.message.endsWith(hint)) {
      throw new ConnectionError(`${err.message.slice(0, -hint.length)}not for want of SASL (a second connection was answered without it): the broker may be restarting, or something between closes connections`, {
        broker: this.address,
        api: err.api,
        cause: err,
      });
    }
    throw err;
  }

  /** The highest version of `api` both sides support, or undefined when there is none. */
  versionFor(api: AnyApi, max = api.maxVersion): number | undefined {
    const theirs = this.brokerVersions.get(api.key);
    if (!theirs) return undefined;
    const high = Math.min(max, api.maxVersion, theirs.max);
    const low = Math.max(api.minVersion, theirs.min);
    return high >= low ? high : undefined;
  }

  /** Like versionFor, but a missing common version is an UnsupportedVersionError. */
  requireVersion(api: AnyApi, max = api.maxVersion): number {
    const v = this.versionFor(api, max);
    if (v === undefined) {
      const theirs = this.brokerVersions.get(api.key);
      throw new UnsupportedVersionError(
        `${this.address} supports ${api.name} ${theirs ? `v${theirs.min}-v${theirs.max}` : 'not at all'}; kafka-wire speaks v${api.minVersion}-v${Math.min(max, api.maxVersion)}`,
        { broker: this.address, api: api.name },
      );
    }
    return v;
  }

  /** Sends at the negotiated version (or at most `opts.maxVersion`). */
  async request<A extends AnyApi>(
    api: A,
    body: RequestOf<A>,
    opts: RequestOptions & { maxVersion?: number } = {},
  ): Promise<{ version: number; response: ResponseOf<A> }> {
    const version = this.requireVersion(api, opts.maxVersion);
    const response = await this.send(api, version, body, opts);
    return { version, response };
  }

  close(timeoutMs?: number): Promise<void> {
    return this.connection.close(timeoutMs);
  }

  destroy(err?: Error): void {
    this.connection.destroy(err);
  }
}

/** A TLS connect the other end closed before the handshake was done (Node: ECONNRESET, "disconnected before secure TLS connection"). */
function droppedDuringTlsHandshake(err: unknown): err is ConnectionError & { broker: string } {
  return err instanceof ConnectionError && err.broker !== undefined && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET';
}
