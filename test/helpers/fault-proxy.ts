/**
 * A TCP proxy between a client and one broker that misbehaves on command: it can delay
 * every chunk, cut every connection, cut one mid-frame (half a response delivered, then
 * the socket closed), blackhole (keep connections open but pass nothing), or swallow the
 * broker's answers only (requests arrive and are acted on; the client never hears back).
 * Real brokers behind it; only the network in between is faked.
 */
import * as net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export class FaultProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;
  #server: net.Server;
  #pairs = new Set<Pair>();
  #delayMs = 0;
  #blackhole = false;
  #dropResponses = false;
  #cutNextResponse = false;
  #target: { host: string; port: number };

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Retargets new connections (e.g. a broker restarted on another port). */
  retarget(target: { host: string; port: number }): void {
    this.#target = target;
  }

  delay(ms: number): void {
    this.#delayMs = ms;
  }

  blackhole(on: boolean): void {
    this.#blackhole = on;
  }

  /** Requests still reach the broker, but its answers are thrown away. */
  dropResponses(on: boolean): void {
    this.#dropResponses = on;
  }

  /** Destroys every connection now, in both directions. */
  cutAll(): number {
    const n = this.#pairs.size;
    for (const p of this.#pairs) this.#drop(p);
    return n;
  }

  /** The next chunk from the broker is cut in half, and that connection closed. */
  cutMidFrame(): void {
    this.#cutNextResponse = true;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.#target);
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const forward = (from: net.Socket, to: net.Socket, fromBroker: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.#blackhole || (fromBroker && this.#dropResponses)) return;
        if (fromBroker && this.#cutNextResponse && chunk.length > 1) {
          this.#cutNextResponse = false;
          to.write(chunk.subarray(0, chunk.length >> 1), () => this.#drop(pair));
          return;
        }
        if (this.#delayMs > 0) setTimeout(() => to.writable && to.write(chunk), this.#delayMs);
        else if (to.writable) to.write(chunk);
      });
    };
    forward(client, upstream, false);
    forward(upstream, client, true);
    const end = (): void => this.#drop(pair);
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  #drop(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
