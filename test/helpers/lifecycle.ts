/**
 * Small tools for tests of a producer's life cycle: a server that accepts and never
 * answers, a port nothing listens on, a log of connection attempts (from the
 * 'kafka-wire:connection:connect' diagnostics channel), the process's live handles, and
 * waiting for a condition or a promise with a deadline instead of a fixed sleep.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import * as net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A TCP server that accepts connections and never says a word: a frozen broker. Like a
 * host that hangs, it does not even answer a FIN: closing gracefully waits in vain.
 */
export interface SilentServer {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections whose client has not closed its end yet. */
  readonly open: number;
  /** Server-side sockets still held (this process's own TCPSocketWrap handles, to discount). */
  readonly held: number;
  close(): Promise<void>;
}

export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    clients.add(socket);
    // Read (and drop) what arrives, or a FIN behind unread bytes is never seen.
    socket.resume();
    socket.on('end', () => clients.delete(socket));
    socket.on('error', () => clients.delete(socket));
    socket.on('close', () => {
      clients.delete(socket);
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return clients.size;
    },
    get held() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP proxy to one broker that can freeze: from freeze() on, nothing passes either way,
 * on the connections it has and on new ones (still accepted, as a kernel would), and a
 * FIN from the client is not answered: a broker whose process hangs, or a host that
 * went away without a word. (FaultProxy's blackhole still closes a connection its
 * client closes, so a graceful close there never has to wait.)
 */
export class FreezingProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;
  #frozen = false;
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  private constructor(target: { host: string; port: number }) {
    this.#server = net.createServer({ allowHalfOpen: true }, (client) => {
      this.accepted++;
      const upstream = net.connect(target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.#sockets.delete(s);
          if (!this.#frozen) (s === client ? upstream : client).destroy();
        });
      }
      client.on('data', (chunk: Buffer) => void (this.#frozen || upstream.write(chunk)));
      upstream.on('data', (chunk: Buffer) => void (this.#frozen || client.write(chunk)));
      client.on('end', () => void (this.#frozen || client.end()));
    });
  }

  static async start(target: { host: string; port: number }): Promise<FreezingProxy> {
    const proxy = new FreezingProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  freeze(): void {
    this.#frozen = true;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A local port with nothing listening on it (bound once, then released): connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ConnectAttempt {
  host: string;
  port: number;
  at: number;
}

/** Connection attempts to `ports`, as the diagnostics channel publishes them, until stop(). */
export interface AttemptLog {
  readonly attempts: ConnectAttempt[];
  /** Attempts made at or after `since` (epoch ms). */
  since(since: number): ConnectAttempt[];
  stop(): void;
}

export const CONNECT_CHANNEL_NAME = 'kafka-wire:connection:connect';

export function logConnectAttempts(ports: readonly number[]): AttemptLog {
  const attempts: ConnectAttempt[] = [];
  const onMessage = (message: unknown): void => {
    const { host, port } = message as { host: string; port: number };
    if (ports.includes(port)) attempts.push({ host, port, at: Date.now() });
  };
  subscribe(CONNECT_CHANNEL_NAME, onMessage);
  let stopped = false;
  return {
    attempts,
    since: (since) => attempts.filter((a) => a.at >= since),
    stop: () => {
      if (!stopped) unsubscribe(CONNECT_CHANNEL_NAME, onMessage);
      stopped = true;
    },
  };
}

/** process.getActiveResourcesInfo() counted by kind (TCPSocketWrap, Timeout, ...). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** Polls `condition` every 20 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type Outcome<T> =
  | { state: 'resolved'; value: T; ms: number }
  | { state: 'rejected'; error: unknown; ms: number }
  | { state: 'pending'; ms: number };

/**
 * How `promise` settled within `limitMs` (from now), and after how many ms; 'pending' when
 * it had not by then. The test goes on either way, so a hang is a failed expectation,
 * not a test timeout.
 */
export async function settleWithin<T>(promise: Promise<T>, limitMs: number): Promise<Outcome<T>> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<Outcome<T>>((resolve) => (timer = setTimeout(() => resolve({ state: 'pending', ms: Date.now() - start }), limitMs)));
  const settled = promise.then(
    (value): Outcome<T> => ({ state: 'resolved', value, ms: Date.now() - start }),
    (error: unknown): Outcome<T> => ({ state: 'rejected', error, ms: Date.now() - start }),
  );
  try {
    return await Promise.race([settled, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a settled outcome rejected with; throws (failing the test) for any other outcome. */
export function rejection(outcome: Outcome<unknown>): Error {
  if (outcome.state !== 'rejected') throw new Error(`expected a rejection, but the promise was ${outcome.state} after ${outcome.ms} ms`);
  return outcome.error as Error;
}

/** Full garbage collection, available without --expose-gc (V8 flag set at run time). */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
