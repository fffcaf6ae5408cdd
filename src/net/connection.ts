/**
 * One TCP (or TLS) connection to one broker: framing, correlation ids, requests in
 * flight, timeouts, and a cap on what a response may claim to be.
 *
 * Kafka answers the requests of one connection in the order they were sent, so pending
 * requests are a FIFO and every response must carry the head's correlation id; anything
 * else means the stream can no longer be trusted and the connection is destroyed.
 * Requests that expect no response (Produce with acks=0) never enter that FIFO.
 */
import { channel } from 'node:diagnostics_channel';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectionError, KafkaWireError, ProtocolError, RequestTimeoutError } from '../errors.js';
import type { AnyApi, ApiDefinition, RequestOf, ResponseOf } from '../protocol/api.js';
import { correlationIdOf, decodeResponse, encodeRequestChunks, type RequestChunks } from '../protocol/frame.js';
import { SpareBuffers } from '../protocol/writer.js';
import { FrameReader } from './frame-reader.js';
import { tlsFailure, warnIfInsecure } from './security.js';

/** Published ({ host, port, tls }) before each connection attempt: what a reconnect storm would show. */
export const CONNECT_CHANNEL = channel('kafka-wire:connection:connect');

/** What `kafka-wire:connection:connect` publishes. */
export interface ConnectEvent {
  host: string;
  port: number;
  /** Whether the connection is made with TLS. */
  tls: boolean;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string | null;
  /** TLS options; plaintext when absent. */
  tls?: tls.ConnectionOptions;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Requests sent and not yet answered; more wait in a queue, in order. */
  maxInFlight?: number;
  /** A response frame claiming more bytes than this is a protocol error, not an allocation. */
  maxResponseBytes?: number;
  /** Aborting it ends a connect still in progress (the socket is destroyed at once). */
  signal?: AbortSignal;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** False for requests the broker does not answer (Produce with acks=0). */
  expectResponse?: boolean;
  /** @internal Goes out even while the connection is held (the SASL requests of a re-authentication). */
  pastHold?: boolean;
}

interface Pending {
  readonly correlationId: number;
  readonly api: AnyApi;
  readonly version: number;
  /** The request's bytes, in chunks (encodeRequestChunks). */
  readonly frame: RequestChunks;
  readonly expectResponse: boolean;
  readonly timeoutMs: number;
  deadline: number;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export const CONNECTION_DEFAULTS = {
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxInFlight: 5,
  maxResponseBytes: 100 * 1024 * 1024,
} as const;

const MAX_CORRELATION_ID = 0x7fffffff;

/**
 * What every plaintext socket reads into (net.connect's `onread`): the callback copies
 * the bytes out before it returns, and callbacks run one at a time, so one buffer serves
 * all. It spares each read Node's stream path (a buffer allocated and shrunk, pushed
 * through a Readable, emitted as 'data'): about 5% of a producer's main thread at a
 * steady 10,000 records/s. TLS sockets take no `onread` and keep the 'data' events.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/** A socket to the broker: TLS when asked, else plain TCP reading through a ReadRoute. */
function dial(opts: ConnectionOptions): { socket: net.Socket; route: ReadRoute | undefined } {
  if (opts.tls) {
    return { socket: tls.connect({ ...opts.tls, host: opts.host, port: opts.port, servername: opts.tls.servername ?? sniName(opts.host) }), route: undefined };
  }
  const route = new ReadRoute();
  return { socket: net.connect({ host: opts.host, port: opts.port, onread: route.onread }), route };
}

/**
 * Carries a plaintext socket's reads to its Connection. Node starts reading only after
 * 'connect', whose handler makes the Connection; a read before that would be kept for
 * it, not lost.
 */
class ReadRoute {
  #early: Buffer[] = [];
  #deliver: ((chunk: Buffer) => void) | undefined;

  readonly onread = {
    buffer: SHARED_READ_BUFFER,
    callback: (n: number, buffer: Uint8Array): boolean => {
      const chunk = Buffer.allocUnsafe(n);
      chunk.set(buffer.subarray(0, n));
      if (this.#deliver) this.#deliver(chunk);
      else this.#early.push(chunk);
      return true;
    },
  };

  to(deliver: (chunk: Buffer) => void): void {
    this.#deliver = deliver;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) deliver(chunk);
  }
}

export class Connection {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly #clientId: string | null;
  readonly #requestTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #socket: net.Socket;
  readonly #frames: FrameReader;
  /** What requests are copied into (see SpareBuffers): up to a default maxRequestSize's worth, reused. */
  readonly #spare = new SpareBuffers(16);
  /** Sent, awaiting a response, oldest first. */
  readonly #inFlight: Pending[] = [];
  /** Not yet sent because maxInFlight requests are out. */
  readonly #queued: Pending[] = [];
  /** close() waiting for the last response. */
  readonly #idleWaiters: (() => void)[] = [];
  #nextCorrelationId = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerDeadline = Number.POSITIVE_INFINITY;
  #corked = false;
  // Made once, not a closure per write.
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };
  /** While true only `pastHold` requests are written; the rest wait in the queue, in order. */
  #held = false;
  #closedError: Error | undefined;
  /** Responses received: a broker that closes before answering past the handshake is told apart by it. */
  #answered = 0;
  #endedByUs = false;
  /**
   * Said when the broker closes the connection at the first request after ApiVersions,
   * unanswered (BrokerConnection sets it when no SASL is configured: that is how a SASL
   * listener treats a client that did not authenticate).
   */
  #closedAtFirstRequestHint: string | undefined;
  /** Answers before the first request the hint is about: one ApiVersions, or two when the broker refused our version first (KIP-511). */
  #answeredBeforeFirstRequest = 0;
  #closing: Promise<void> | undefined;
  readonly #closed: Promise<void>;
  #onClosed!: () => void;

  private constructor(opts: ConnectionOptions, socket: net.Socket, route: ReadRoute | undefined) {
    this.host = opts.host;
    this.port = opts.port;
    this.address = `${opts.host}:${opts.port}`;
    this.#clientId = opts.clientId === undefined ? 'kafka-wire' : opts.clientId;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? CONNECTION_DEFAULTS.requestTimeoutMs;
    this.#maxInFlight = opts.maxInFlight ?? CONNECTION_DEFAULTS.maxInFlight;
    this.#socket = socket;
    this.#frames = new FrameReader(opts.maxResponseBytes ?? CONNECTION_DEFAULTS.maxResponseBytes);
    this.#closed = new Promise((resolve) => (this.#onClosed = resolve));
    const onData = (chunk: Buffer): void => this.#onData(chunk);
    if (route) route.to(onData);
    else socket.on('data', onData);
    socket.on('error', (err) => {
      // A TLS 1.3 server refuses our certificate only after the handshake looked done.
      this.#fail(tlsFailure(err, this.address, opts.tls) ?? new ConnectionError(`connection to ${this.address} failed: ${err.message}`, { broker: this.address, cause: err }));
    });
    socket.on('close', () => {
      this.#fail(this.#closedByPeer());
      this.#onClosed();
    });
  }

  #closedByPeer(): ConnectionError {
    const first = this.#inFlight[0];
    if (this.#closedAtFirstRequestHint !== undefined && this.#answered === this.#answeredBeforeFirstRequest && first) {
      const what = `${first.api.name} v${first.version}`;
      return new ConnectionError(`connection to ${this.address} closed by the broker at its first request after ApiVersions (${what}), unanswered: ${this.#closedAtFirstRequestHint}`, { broker: this.address, api: what });
    }
    return new ConnectionError(`connection to ${this.address} closed`, { broker: this.address });
  }

  /** What a close at the next request, unanswered, is said to mean (see #closedByPeer); set once ApiVersions is done. */
  get closedAtFirstRequestHint(): string | undefined {
    return this.#closedAtFirstRequestHint;
  }

  set closedAtFirstRequestHint(hint: string | undefined) {
    this.#closedAtFirstRequestHint = hint;
    this.#answeredBeforeFirstRequest = this.#answered;
  }

  /** Responses received so far. */
  get answered(): number {
    return this.#answered;
  }

  /** Why the connection ended, once it has, unless we ended it (close(), or destroy() with no error). */
  get endedBy(): Error | undefined {
    return this.#endedByUs ? undefined : this.#closedError;
  }

  /** Opens a connection; rejects with a ConnectionError on refusal, TLS failure or timeout. */
  static connect(opts: ConnectionOptions): Promise<Connection> {
    const address = `${opts.host}:${opts.port}`;
    const timeoutMs = opts.connectTimeoutMs ?? CONNECTION_DEFAULTS.connectTimeoutMs;
    if (opts.tls) warnIfInsecure(opts.tls);
    if (CONNECT_CHANNEL.hasSubscribers) {
      const event: ConnectEvent = { host: opts.host, port: opts.port, tls: opts.tls !== undefined };
      CONNECT_CHANNEL.publish(event);
    }
    if (opts.signal?.aborted) return Promise.reject(abortedConnect(address, opts.signal));
    return new Promise((resolve, reject) => {
      const { socket, route } = dial(opts);
      const readyEvent = opts.tls ? 'secureConnect' : 'connect';
      const give = (err: Error): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      const timer = setTimeout(() => give(new ConnectionError(`connecting to ${address} timed out after ${timeoutMs} ms`, { broker: address })), timeoutMs);
      const onAbort = (): void => give(abortedConnect(address, opts.signal!));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const onError = (err: Error): void => {
        give(tlsFailure(err, address, opts.tls) ?? new ConnectionError(`cannot connect to ${address}: ${err.message}`, { broker: address, cause: err }));
      };
      socket.once('error', onError);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 60_000);
        resolve(new Connection(opts, socket, route));
      });
    });
  }

  get isOpen(): boolean {
    return this.#closedError === undefined && this.#closing === undefined;
  }

  get inFlight(): number {
    return this.#inFlight.length;
  }

  get queued(): number {
    return this.#queued.length;
  }

  /** Resolves once the socket is fully closed, however that happened. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Sends one request at `version` and resolves with the decoded response body.
   * The request is encoded at once, so an encoding problem throws here, not later.
   */
  send<A extends AnyApi>(api: A, version: number, body: RequestOf<A>, opts: RequestOptions = {}): Promise<ResponseOf<A>> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    if (this.#closing) {
      return Promise.reject(new ConnectionError(`connection to ${this.address} is closing`, { broker: this.address }));
    }
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = correlationId === MAX_CORRELATION_ID ? 0 : correlationId + 1;
    // Record batches are referenced, not copied: they stay as they are until answered, and a
    // connection that fails is destroyed with whatever it had not written yet.
    const frame = encodeRequestChunks(api, version, correlationId, this.#clientId, body, this.#spare);
    return new Promise<ResponseOf<A>>((resolve, reject) => {
      const pending: Pending = {
        correlationId,
        api,
        version,
        frame,
        expectResponse: opts.expectResponse ?? true,
        timeoutMs: opts.timeoutMs ?? this.#requestTimeoutMs,
        deadline: 0,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (opts.pastHold || (!this.#held && this.#inFlight.length < this.#maxInFlight && this.#queued.length === 0)) this.#write(pending);
      else this.#queued.push(pending);
    });
  }

  #write(p: Pending): void {
    if (!this.#corked) {
      // Requests issued in the same tick leave in one write.
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    const { chunks, taken } = p.frame;
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.#socket.write(chunks[i]!);
    if (!p.expectResponse) {
      this.#socket.write(chunks[last]!, (err) => {
        this.#spare.give(taken);
        if (err) p.reject(new ConnectionError(`writing to ${this.address} failed: ${err.message}`, { broker: this.address, cause: err }));
        else p.resolve(undefined);
      });
      return;
    }
    p.deadline = Date.now() + p.timeoutMs;
    this.#inFlight.push(p);
    // The socket is done with every chunk when the last one's callback runs (ended or
    // failed): only then may the spare buffers be filled again.
    if (taken.length > 0) this.#socket.write(chunks[last]!, () => this.#spare.give(taken));
    else this.#socket.write(chunks[last]!);
    if (p.deadline < this.#timerDeadline) this.#armTimer(p.deadline);
  }

  /**
   * Holds back every request not sent with `pastHold` until release(). Between a SASL
   * re-authentication's SaslHandshake and its last SaslAuthenticate the broker accepts
   * nothing else on the connection (KIP-368); requests already written are answered
   * before the handshake, since the broker answers in order.
   *
   * @internal For the SASL session (sasl/index.ts); not part of the public API, which
   * may change it in any release.
   */
  hold(): void {
    this.#held = true;
  }

  /** @internal Ends hold(); see there. */
  release(): void {
    this.#held = false;
    this.#drainQueue();
  }

  #drainQueue(): void {
    while (!this.#held && this.#queued.length > 0 && this.#inFlight.length < this.#maxInFlight && !this.#closedError) {
      this.#write(this.#queued.shift()!);
    }
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#frames.push(chunk);
    } catch (err) {
      this.destroy(withBroker(err, this.address));
      return;
    }
    for (const frame of frames) {
      if (this.#closedError) return;
      this.#onFrame(frame);
    }
    this.#drainQueue();
    this.#notifyIfIdle();
  }

  #onFrame(frame: Buffer): void {
    const head = this.#inFlight[0];
    const correlationId = correlationIdOf(frame);
    if (!head || head.correlationId !== correlationId) {
      const expected = head ? `correlation id ${head.correlationId}` : 'no response';
      this.destroy(
        new ProtocolError(`${this.address} sent a response with correlation id ${correlationId}, expected ${expected}`, {
          broker: this.address,
        }),
      );
      return;
    }
    // The timer stays armed when the last answer comes: #onTimer finds nothing to time out
    // then. Disarming it here and arming it again for the next request cost a clearTimeout
    // and a setTimeout per request; left armed, it wakes once per requestTimeoutMs.
    this.#inFlight.shift();
    this.#answered++;
    try {
      head.resolve(decodeResponse(head.api, head.version, frame));
    } catch (err) {
      // The frame boundaries were sound, so only this response is lost, not the connection.
      // withBroker names the API and version (and the broker): what decodeResponse found, without its own naming of them.
      const label = `${head.api.name} v${head.version}`;
      head.reject(withBroker(err instanceof ProtocolError && err.api === label ? err.cause : err, this.address, label));
    }
  }

  #armTimer(deadline: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerDeadline = deadline;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, deadline - Date.now()));
    // Requests in flight keep the process alive through the socket; the timer alone need not.
    this.#timer.unref();
  }

  #disarmTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDeadline = Number.POSITIVE_INFINITY;
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDeadline = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const expired = this.#inFlight.find((p) => p.deadline <= now);
    if (expired) {
      // A late response would arrive out of step with the FIFO: the connection must go.
      const what = `${expired.api.name} v${expired.version}`;
      expired.reject(
        new RequestTimeoutError(`${what} to ${this.address} got no response within ${expired.timeoutMs} ms`, {
          broker: this.address,
          api: what,
        }),
      );
      this.#inFlight.splice(this.#inFlight.indexOf(expired), 1);
      this.destroy(new ConnectionError(`connection to ${this.address} closed after a request timed out`, { broker: this.address }));
      return;
    }
    const next = Math.min(...this.#inFlight.map((p) => p.deadline));
    if (Number.isFinite(next)) this.#armTimer(next);
  }

  /** Fails everything pending with `err` (once) and releases the timer. */
  #fail(err: Error): void {
    if (this.#closedError) return;
    this.#closedError = err;
    this.#disarmTimer();
    const pending = [...this.#inFlight.splice(0), ...this.#queued.splice(0)];
    for (const p of pending) p.reject(err);
    this.#notifyIfIdle();
  }

  /**
   * Waits for the responses in flight and queued (up to `timeoutMs`), then closes the
   * socket. Anything still pending then fails with a ConnectionError.
   */
  close(timeoutMs = this.#requestTimeoutMs): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#pendingCount() > 0 && !this.#closedError) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      }
      if (!this.#closedError) this.#endedByUs = true;
      this.#fail(new ConnectionError(`connection to ${this.address} was closed`, { broker: this.address }));
      this.#socket.end();
      const forced = setTimeout(() => this.#socket.destroy(), 1000);
      await this.#closed;
      clearTimeout(forced);
    })();
    return this.#closing;
  }

  #pendingCount(): number {
    return this.#inFlight.length + this.#queued.length;
  }

  #notifyIfIdle(): void {
    if (this.#pendingCount() > 0) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Closes the socket at once; everything pending fails with `err` or a ConnectionError. */
  destroy(err?: Error): void {
    if (!err && !this.#closedError) this.#endedByUs = true;
    this.#fail(err ?? new ConnectionError(`connection to ${this.address} was destroyed`, { broker: this.address }));
    this.#socket.destroy();
  }
}

function withBroker(err: unknown, broker: string, api?: string): Error {
  if (err instanceof ProtocolError) {
    return new ProtocolError(`${api ? `${api} from ` : ''}${broker}: ${err.message}`, { broker, api, offset: err.offset, ...(err.listener ? { listener: err.listener } : {}), cause: err });
  }
  if (err instanceof KafkaWireError) return err;
  return new ProtocolError(`${api ? `${api} from ` : ''}${broker}: ${String(err)}`, { broker, api, cause: err });
}

function abortedConnect(address: string, signal: AbortSignal): ConnectionError {
  return new ConnectionError(`connecting to ${address} was given up`, { broker: address, cause: signal.reason });
}

/** TLS SNI must be a host name, never an IP address (RFC 6066). */
function sniName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}
