/**
 * The broker registry: the one place that opens, reuses, backs off from and closes
 * connections. The sender asks it for a broker's link; metadata and the coordinators ask
 * it for any connection. Layers, by role:
 *
 *   BrokerLink (here)        the producer's view of one broker: its channel, reconnect
 *                            backoff, throttle mute, requests in flight, write order
 *   BrokerConnection (net/)  one negotiated connection: API versions, SASL
 *   Connection (net/)        one socket: framing, correlation ids, timeouts
 *
 * Throttling (KIP-219): from the versions where the client must honour
 * `throttle_time_ms` itself, the broker answers at once and then stops reading our socket
 * for that long. We stop sending to that broker alone until the deadline, which only
 * moves forward (as Java's NetworkClient does); other brokers keep flowing.
 */
import { debuglog } from 'node:util';
import { cannotHealByWaiting, ConnectionError, ProducerClosedError, rootCause } from '../errors.js';
import type { BrokerAddress } from '../net/bootstrap.js';
import { BrokerConnection } from '../net/broker-connection.js';
import type { AnyApi } from '../protocol/api.js';
import { backoffDelay } from './backoff.js';
import type { BrokerChannel, Dialer } from './broker-channel.js';
import type { Clock } from './clock.js';
import type { ResolvedOptions } from './options.js';

const debug = debuglog('kafka-wire');

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
}

/** Opens a real connection: a socket, ApiVersions, then SASL when configured. */
export const dialBroker: Dialer = (target, opts, signal) =>
  BrokerConnection.open({
    // Where to dial: the broker's advertised address, unless mapped (tunnels, proxies).
    ...(opts.mapBrokerAddress?.(target.host, target.port) ?? { host: target.host, port: target.port }),
    clientId: opts.clientId,
    connectTimeoutMs: opts.connectTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs,
    // The producer keeps its own count of requests per broker; the connection's queue
    // would only hide a full pipeline from it.
    maxInFlight: opts.maxInFlight + 1,
    tls: opts.tls,
    sasl: opts.sasl,
    signal,
  });

export class BrokerLink {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  nodeId: number;
  channel: BrokerChannel | undefined;
  #opening: Promise<BrokerChannel> | undefined;
  /** A channel closing politely, for a second close() to end at once. */
  #closing: BrokerChannel | undefined;
  /** Epoch ms until which the broker asked us not to send (KIP-219). */
  throttledUntil = 0;
  throttleTimeMs = 0;
  /** Epoch ms before which we do not dial again, and the failures in a row behind it. */
  reconnectAt = 0;
  failures = 0;
  lastError: Error | undefined;
  /** Produce requests sent and not yet answered. */
  inFlight = 0;
  /**
   * The request whose write the next one waits for. Compression is async, so requests
   * could otherwise reach the socket in another order than they were drained in, and a
   * partition's batches out of sequence order.
   */
  lastWrite: Promise<void> | undefined;
  /** Where the next drain starts, so every partition gets its turn under maxRequestSize. */
  drainStart = 0;

  constructor(address: BrokerAddress, nodeId: number) {
    this.host = address.host;
    this.port = address.port;
    this.address = `${address.host}:${address.port}`;
    this.nodeId = nodeId;
  }

  get ready(): boolean {
    return this.channel !== undefined && this.channel.isOpen;
  }

  get opening(): boolean {
    return this.#opening !== undefined;
  }

  /** Honours a response's throttle_time_ms when its API version asks the client to. */
  noteThrottle(api: AnyApi, version: number, throttleTimeMs: number, now: number): boolean {
    if (throttleTimeMs <= 0 || api.clientThrottlesFrom === undefined || version < api.clientThrottlesFrom) return false;
    this.throttleTimeMs += throttleTimeMs;
    this.throttledUntil = Math.max(this.throttledUntil, now + throttleTimeMs);
    return true;
  }

  /** Used by Brokers only: dials (single-flight) and keeps the backoff. */
  open(dial: () => Promise<BrokerChannel>, clock: Clock, opts: ResolvedOptions): Promise<BrokerChannel> {
    if (this.ready) return Promise.resolve(this.channel!);
    this.#opening ??= dial().then(
      (channel) => {
        this.channel = channel;
        const failuresBefore = this.failures;
        this.failures = 0;
        this.lastError = undefined;
        this.#opening = undefined;
        void channel.closed.then(() => {
          if (this.channel === channel) this.channel = undefined;
          // Closed by the broker before it answered anything past the handshake (a SASL
          // listener dialled without sasl answers ApiVersions, then closes at the next
          // request): a failed dial, whose backoff grows, not a new start every 100 ms.
          const err = channel.closedUnanswered;
          if (!err || this.channel) return;
          this.#failed(err, failuresBefore + 1, clock, opts);
          // A close at the first request says it may be for want of SASL until a probe tells;
          // later messages (a metadata timeout) quote lastError, so it takes the probe's word.
          void channel.explainedClose?.().then((explained) => {
            if (explained && this.lastError === err) this.lastError = explained;
          });
        });
        return channel;
      },
      (err: Error) => {
        this.#failed(err, this.failures + 1, clock, opts);
        this.#opening = undefined;
        throw err;
      },
    );
    return this.#opening;
  }

  #failed(err: Error, failures: number, clock: Clock, opts: ResolvedOptions): void {
    this.failures = failures;
    this.lastError = err;
    // Refused credentials or certificates, or a listener that is not what was dialled, only
    // fail again: wait the longest backoff at once.
    const wait = cannotHealByWaiting(err) ? opts.retryBackoffMaxMs : backoffDelay({ base: opts.retryBackoffMs, max: opts.retryBackoffMaxMs }, failures);
    this.reconnectAt = clock.now() + wait;
    debug('connecting to %s failed (%s); next attempt in %d ms', this.address, err.message, wait);
  }

  /** The last open's failure while its backoff lasts: calling again now would only dial in vain. */
  backingOff(now: number): Error | undefined {
    return this.lastError && now < this.reconnectAt ? this.lastError : undefined;
  }

  /** Closes gracefully within `graceMs` when nothing is in flight, else (or when called again with 0) at once. */
  async close(graceMs: number): Promise<void> {
    const channel = this.channel ?? this.#closing;
    this.channel = undefined;
    if (!channel) return;
    if (graceMs <= 0 || this.inFlight > 0) {
      channel.destroy();
      return;
    }
    this.#closing = channel;
    await channel.close(graceMs);
  }
}

export class Brokers {
  readonly #options: ResolvedOptions;
  readonly #dial: Dialer;
  readonly #clock: Clock;
  /** Aborted when the producer closes: ends dials in progress and refuses new ones. */
  readonly #signal: AbortSignal;
  readonly #known: () => ReadonlyMap<number, BrokerInfo>;
  /** Links by `host:port`; the bootstrap ones become brokers' once metadata names them. */
  readonly #links = new Map<string, BrokerLink>();
  /**
   * The link last found for each node, with the metadata entry it was found for: the
   * sender asks for every partition it looks at on every run, and a refresh or a leader
   * hint replaces the entry (and so the answer) with a new object.
   */
  readonly #byNode = new Map<number, { info: BrokerInfo; link: BrokerLink }>();
  #rotation = 0;

  constructor(options: ResolvedOptions, dial: Dialer, clock: Clock, signal: AbortSignal, known: () => ReadonlyMap<number, BrokerInfo>) {
    this.#options = options;
    this.#dial = dial;
    this.#clock = clock;
    this.#signal = signal;
    this.#known = known;
  }

  links(): IterableIterator<BrokerLink> {
    return this.#links.values();
  }

  #link(address: BrokerAddress, nodeId: number): BrokerLink {
    const key = `${address.host}:${address.port}`;
    let link = this.#links.get(key);
    if (!link) this.#links.set(key, (link = new BrokerLink(address, nodeId)));
    if (nodeId >= 0) link.nodeId = nodeId;
    return link;
  }

  /** The link to broker `nodeId` as metadata names it; undefined when metadata does not know it. */
  forNode(nodeId: number): BrokerLink | undefined {
    const info = this.#known().get(nodeId);
    if (!info) return undefined;
    const last = this.#byNode.get(nodeId);
    if (last?.info === info) return last.link;
    const link = this.#link(info, nodeId);
    this.#byNode.set(nodeId, { info, link });
    return link;
  }

  /**
   * Opens (or reuses) the link's connection. While the link backs off from a failed dial,
   * the failure is the answer: dialling again now would only fail again, and a reconnect
   * storm is what brokers rate-limit and alert on.
   */
  open(link: BrokerLink): Promise<BrokerChannel> {
    if (this.#signal.aborted) return Promise.reject(new ProducerClosedError('the producer is closed'));
    const starting = !link.opening;
    const backingOff = starting ? link.backingOff(this.#clock.now()) : undefined;
    if (backingOff) return Promise.reject(backingOff);
    const target = { host: link.host, port: link.port, nodeId: link.nodeId };
    const opened = link.open(() => this.#dial(target, this.#options, this.#signal), this.#clock, this.#options).then((channel) => {
      // Opened just as the producer closed: it must not outlive close().
      if (!this.#signal.aborted) return channel;
      channel.destroy();
      link.channel = undefined;
      throw new ProducerClosedError('the producer is closed');
    });
    if (starting) opened.then(this.#dialEnded, this.#dialEnded);
    return opened;
  }

  /**
   * Called once each dial ends, connected or not, whoever started it: a coordinator call
   * or a metadata refresh may open the link a partition's leader is on.
   */
  onDialEnded: (() => void) | undefined;
  readonly #dialEnded = (): void => this.onDialEnded?.();

  /** A connection to a broker named by FindCoordinator. */
  connectTo(nodeId: number, host: string, port: number): Promise<BrokerChannel> {
    return this.open(this.#link({ host, port }, nodeId));
  }

  /**
   * A connection for metadata or a coordinator lookup: any open one, else the known
   * brokers (the bootstrap list before metadata) in turn, skipping those still backing off
   * from a failure. When none can be tried, a ConnectionError names every address and
   * carries the last socket error.
   */
  async any(): Promise<BrokerChannel> {
    for (const link of this.#links.values()) if (link.ready) return link.channel!;
    const known = [...this.#known().values()];
    const candidates: BrokerAddress[] = known.length > 0 ? known : this.#options.bootstrap;
    const tried: string[] = [];
    let lastError: Error | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const address = candidates[this.#rotation++ % candidates.length]!;
      const link = this.#link(address, 'nodeId' in address ? (address.nodeId as number) : -1);
      try {
        return await this.open(link);
      } catch (err) {
        if (cannotHealByWaiting(err) || err instanceof ProducerClosedError) throw err;
        tried.push(`${link.address} (${(err as Error).message})`);
        lastError = err as Error;
      }
    }
    throw new ConnectionError(`no broker could be reached: tried ${tried.join('; ')}`, { cause: lastError && rootCause(lastError) });
  }

  /** Closes every connection: gracefully within `graceMs` where nothing is in flight, else at once. */
  async close(graceMs: number): Promise<void> {
    await Promise.all([...this.#links.values()].map((l) => l.close(graceMs)));
    this.#links.clear();
    this.#byNode.clear();
  }
}
