/**
 * A TCP proxy between a client and one broker that misbehaves on command: it can delay
 * every chunk, cut every connection, cut one mid-frame (half a response delivered, then
 * the socket closed), blackhole (keep connections open but pass nothing), or swallow the
 * broker's answers only (requests arrive and are acted on; the client never hears back),
 * or cut a connection right after a Produce request has passed to the broker (so the cut
 * always meets a request in flight: written, its answer lost).
 * Real brokers behind it; only the network in between is faked.
 */
import * as net from 'node:net';

/** Where the client's request stream is: each request is a 4-byte size, then its header (API key first). */
interface RequestFraming {
  /** The current request's size and API key bytes, while they are still being read. */
  head: number[];
  /** Bytes of the current request still to come after its API key. */
  left: number;
  apiKey: number;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  requests: RequestFraming;
}

const PRODUCE = 0;

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
  #cutAfterProduce = false;
  /** Connections cut by cutAfterNextProduce(), each with a Produce request unanswered. */
  producesCut = 0;
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

  /**
   * The next Produce request (on any connection) is passed whole to the broker, and then its
   * connection is closed before any answer: the client has that request in flight, the
   * broker may well have written it. Stays armed until a Produce request comes (or `false`).
   */
  cutAfterNextProduce(on = true): void {
    this.#cutAfterProduce = on;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.#target);
    const pair: Pair = { client, upstream, requests: { head: [], left: 0, apiKey: -1 } };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const forward = (from: net.Socket, to: net.Socket, fromBroker: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (!fromBroker && endsProduce(pair.requests, chunk) && this.#cutAfterProduce && !this.#blackhole) {
          this.#cutAfterProduce = false;
          this.producesCut++;
          to.write(chunk, () => this.#drop(pair));
          return;
        }
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

/** Follows the request framing through one chunk; true when a Produce request ends in it. */
function endsProduce(f: RequestFraming, chunk: Buffer): boolean {
  let ended = false;
  let off = 0;
  while (off < chunk.length) {
    if (f.left === 0) {
      f.head.push(chunk[off++]!);
      if (f.head.length < 6) continue;
      const head = Buffer.from(f.head);
      f.head = [];
      f.apiKey = head.readInt16BE(4);
      f.left = head.readInt32BE(0) - 2;
      if (f.left <= 0) {
        f.left = 0;
        ended ||= f.apiKey === PRODUCE;
      }
      continue;
    }
    const take = Math.min(f.left, chunk.length - off);
    off += take;
    f.left -= take;
    if (f.left === 0) ended ||= f.apiKey === PRODUCE;
  }
  return ended;
}
