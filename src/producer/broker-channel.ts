/**
 * What the producer needs of a connection to one broker, and how it gets one. The real
 * thing is net/BrokerConnection over a socket; the deterministic tests pass a scripted
 * one (a fake broker in memory, on a fake clock), as Java's MockClient stands in for
 * NetworkClient.
 */
import type { BrokerFeatures } from '../net/broker-connection.js';
import type { AnyApi, RequestOf, ResponseOf } from '../protocol/api.js';
import type { ResolvedOptions } from './options.js';

export interface ChannelRequestOptions {
  /** False for requests the broker does not answer (Produce with acks=0). */
  expectResponse?: boolean;
  timeoutMs?: number;
}

export interface BrokerChannel {
  /** `host:port` as dialled. */
  readonly address: string;
  /** False once the connection failed, closed or is closing. */
  readonly isOpen: boolean;
  /** Resolves once the connection is fully closed, however that happened. */
  readonly closed: Promise<void>;
  /** Why it closed, when it did before answering anything past its handshake: a dial that failed, late. */
  readonly closedUnanswered?: Error | undefined;
  /**
   * `closedUnanswered` once whatever was asked about the close has answered (a SASL
   * probe): the error to keep for later messages, which may say more, or less, than the
   * first one did.
   */
  explainedClose?(): Promise<Error | undefined>;
  readonly features: BrokerFeatures;
  /** The highest version of `api` both sides support, or undefined when there is none. */
  versionFor(api: AnyApi, max?: number): number | undefined;
  /** Like versionFor, but a missing common version is an UnsupportedVersionError. */
  requireVersion(api: AnyApi, max?: number): number;
  /** Sends at the negotiated version (at most `opts.maxVersion`). */
  request<A extends AnyApi>(api: A, body: RequestOf<A>, opts?: ChannelRequestOptions & { maxVersion?: number }): Promise<{ version: number; response: ResponseOf<A> }>;
  /** Sends at exactly `version` (which the caller negotiated). */
  send<A extends AnyApi>(api: A, version: number, body: RequestOf<A>, opts?: ChannelRequestOptions): Promise<ResponseOf<A>>;
  /** Waits up to `timeoutMs` for answers in flight, then closes. */
  close(timeoutMs?: number): Promise<void>;
  /** Closes at once; everything pending fails. */
  destroy(err?: Error): void;
}

export interface DialTarget {
  readonly host: string;
  readonly port: number;
  /** -1 for a bootstrap address not yet named by metadata. */
  readonly nodeId: number;
}

/**
 * Opens and negotiates a connection (ApiVersions, then SASL when configured). Aborting
 * `signal` must end a dial still in progress: close() never waits for a connect.
 */
export type Dialer = (target: DialTarget, options: ResolvedOptions, signal: AbortSignal) => Promise<BrokerChannel>;
