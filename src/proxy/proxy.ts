/**
 * `startProxy`: a TCP proxy any Kafka client can be pointed at, that shows every request
 * and answer decoded and changes nothing but the broker addresses in answers.
 *
 * Each upstream broker gets a listening port on the proxy's (loopback) host: the one it
 * was started with for the bootstrap broker, and one more for each broker an answer names
 * (Metadata, FindCoordinator, DescribeCluster, Produce and Fetch node endpoints). Answers
 * name those ports instead of the brokers, so every connection a client opens goes
 * through the proxy.
 *
 * Requests are forwarded chunk by chunk as they arrive and read beside. Answers are
 * forwarded frame by frame: an answer that may carry addresses is annotated and its host
 * and port bytes replaced in place (rewrite.ts); every other answer goes out as it came.
 * Decoding problems are shown and counted, never thrown: the bytes still go through.
 */
import * as net from 'node:net';
import type { AnnotatedFrame } from '../decode/annotate-frame.js';
import { annotateResponse } from '../decode/annotate-frame.js';
import { KafkaWireError } from '../errors.js';
import { resolveSasl, resolveTls, type SaslOptions, type TlsOptions } from '../net/security.js';
import { inlineDisplay, workerDisplay, type Display, type PrintOptions } from './display.js';
import { readRequestHead, type Exchange, type ProxyStats, type RequestHead } from './exchange.js';
import { Framer } from './framer.js';
import { Recorder } from './recording.js';
import { carriesAddresses, findAddresses, rewriteAddresses, type AddressChange } from './rewrite.js';
import { redactFrame } from './redact.js';
import { openUpstream } from './upstream.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ProxyOptions {
  /** Where clients connect (the bootstrap listener); port 0 picks one. Default 127.0.0.1:19092. */
  listen?: HostPort;
  /** The broker the bootstrap listener leads to. */
  upstream: HostPort;
  /** TLS to the upstream brokers (the client side is plaintext on loopback). */
  tls?: TlsOptions;
  /** SASL to the upstream brokers: the proxy authenticates each of its connections itself. */
  sasl?: SaslOptions;
  /**
   * Called for each request and its answer (or a request that gets none), decoded on the
   * proxy's thread after the I/O at hand.
   */
  onExchange?: (ex: Exchange) => void;
  /**
   * Prints each exchange from a worker thread instead (what the CLI does): decoding and
   * formatting then never share the forwarding thread. Not together with `onExchange`.
   */
  print?: PrintOptions;
  /** Connections opening and closing, listeners added, bytes that are no frame, failures. */
  onEvent?: (event: ProxyEvent) => void;
  /** Writes the conversation to this file (recording.ts), for `decode --replay`. */
  record?: string;
  connectTimeoutMs?: number;
}

export type ProxyEvent =
  | { type: 'listening'; listen: HostPort; upstream: HostPort; nodeId?: number }
  | { type: 'open'; connection: number; client: string; broker: string }
  | { type: 'close'; connection: number; broker: string }
  | { type: 'upstream-error'; connection: number; broker: string; message: string }
  | { type: 'unframed'; connection: number; direction: 'request' | 'response'; bytes: number; reason: string }
  | { type: 'rewrite-error'; connection: number; message: string }
  | { type: 'display-error'; message: string }
  | { type: 'record-error'; message: string };

export interface ProxyListener {
  readonly listen: HostPort;
  readonly upstream: HostPort;
  /** The broker id answers gave it; undefined for the bootstrap listener until one does. */
  nodeId?: number;
}

export interface Proxy {
  /** The bootstrap listener. */
  readonly address: HostPort;
  /** Every listener, bootstrap first. */
  listeners(): ProxyListener[];
  readonly stats: ProxyStats;
  /** Stops listening, closes every connection and the recording. */
  close(): Promise<void>;
}

interface Listener extends ProxyListener {
  readonly server: net.Server;
}

const key = (a: HostPort): string => `${a.host}:${a.port}`;

function listenOn(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const listen = options.listen ?? { host: '127.0.0.1', port: 19092 };
  const tls = resolveTls(options.tls);
  const sasl = resolveSasl(options.sasl);
  const onEvent = options.onEvent ?? (() => {});
  // Opened first: a path that cannot be written fails the start, before anything listens.
  const recorder = options.record
    ? new Recorder(options.record, key(options.upstream), (err) => onEvent({ type: 'record-error', message: err.message }))
    : undefined;
  if (options.print && options.onExchange) throw new TypeError('startProxy takes onExchange or print, not both');
  const display: Display = options.print
    ? workerDisplay(options.print, (err) => onEvent({ type: 'display-error', message: err.message }))
    : inlineDisplay(options.onExchange ?? (() => {}), (err) => onEvent({ type: 'display-error', message: `onExchange threw: ${err.message}` }));
  /** Requests awaiting their answers, by connection and correlation id: what an answer is. */
  const awaited = new Map<number, Map<number, RequestHead>>();
  const listeners = new Map<string, Listener>();
  const starting = new Map<string, Promise<Listener>>();
  /** Brokers no listener could be started for: their addresses are left as they are. */
  const failed = new Set<string>();
  const sockets = new Set<net.Socket>();
  /** Connections not yet closed on both sides, and what resolves when they are. */
  const connections = new Set<Promise<void>>();
  let nextConnection = 1;
  let nextPort = listen.port === 0 ? 0 : listen.port + 1;
  let closing = false;

  const addListener = async (upstream: HostPort, port: number, nodeId?: number): Promise<Listener> => {
    const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (client) => accept(client, upstream));
    let bound: number;
    if (port !== 0 || nextPort === 0) {
      bound = await listenOn(server, listen.host, port);
    } else {
      // Broker listeners take the ports after the bootstrap one, where free.
      for (;;) {
        const candidate = nextPort++;
        if (candidate > 65535) {
          bound = await listenOn(server, listen.host, 0);
          break;
        }
        try {
          bound = await listenOn(server, listen.host, candidate);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        }
      }
    }
    const listener: Listener = { server, listen: { host: listen.host, port: bound }, upstream, nodeId };
    listeners.set(key(upstream), listener);
    onEvent({ type: 'listening', listen: listener.listen, upstream, ...(nodeId !== undefined ? { nodeId } : {}) });
    return listener;
  };

  /** The listener for a broker, started when first named. */
  const listenerFor = (upstream: HostPort, nodeId: number): Listener | Promise<Listener> | undefined => {
    const k = key(upstream);
    if (failed.has(k)) return undefined;
    const existing = listeners.get(k);
    if (existing) {
      existing.nodeId ??= nodeId;
      return existing;
    }
    let p = starting.get(k);
    if (!p) {
      p = addListener(upstream, 0, nodeId)
        .catch((err: unknown) => {
          failed.add(k);
          throw err;
        })
        .finally(() => starting.delete(k));
      starting.set(k, p);
    }
    return p;
  };

  const accept = (client: net.Socket, upstream: HostPort): void => {
    if (closing) {
      client.destroy();
      return;
    }
    const id = nextConnection++;
    const broker = key(upstream);
    const clientName = `${client.remoteAddress}:${client.remotePort}`;
    sockets.add(client);
    client.setNoDelay(true);
    onEvent({ type: 'open', connection: id, client: clientName, broker });
    recorder?.open(id, clientName, broker);
    client.on('error', () => {});
    let upstreamSocket: net.Socket | undefined;
    let closed = false;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    connections.add(finished);
    const closeBoth = (): void => {
      if (closed) return;
      closed = true;
      connections.delete(finished);
      done();
      client.destroy();
      // What the client wrote last (an acks=0 Produce, say) still reaches the broker.
      if (upstreamSocket && !upstreamSocket.destroyed) {
        const up = upstreamSocket;
        // Nobody reads answers any more: they are dropped, not shown against a closed connection.
        up.removeAllListeners('data');
        up.resume();
        up.end();
        setTimeout(() => up.destroy(), 1000).unref();
      }
      sockets.delete(client);
      if (upstreamSocket) sockets.delete(upstreamSocket);
      recorder?.close(id);
      awaited.delete(id);
      // After the connection's last exchanges are shown: a notice of the close printed
      // before them (the CLI's display worker shows exchanges up to 20 ms late) misleads.
      display.closed(id, () => onEvent({ type: 'close', connection: id, broker }));
    };
    client.once('close', closeBoth);
    openUpstream({ ...upstream, tls, sasl, connectTimeoutMs: options.connectTimeoutMs }).then(
      (up) => {
        if (closed) {
          up.destroy();
          return;
        }
        upstreamSocket = up;
        sockets.add(up);
        up.on('error', (err) => onEvent({ type: 'upstream-error', connection: id, broker, message: err.message }));
        up.once('close', () => {
          // Answers still waiting for a listener go out before the client's side closes.
          void responses.drained().then(() => {
            client.end();
            setTimeout(closeBoth, 1000).unref();
          });
        });
        pipeRequests(id, broker, client, up);
        const responses = pipeResponses(id, up, client);
        client.resume();
        up.resume();
      },
      (err: Error) => {
        onEvent({ type: 'upstream-error', connection: id, broker, message: err.message });
        closeBoth();
      },
    );
  };

  /** Client to broker: every chunk goes on at once; frames are cut beside, for showing. */
  const pipeRequests = (id: number, broker: string, from: net.Socket, to: net.Socket): void => {
    const framer = new Framer();
    let framed = true;
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk) && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
      const at = Date.now();
      if (!framed) {
        recorder?.raw(id, 'request', chunk, undefined, at);
        return;
      }
      const { frames, broken } = framer.push(chunk);
      for (const frame of frames) {
        const head = readRequestHead(frame);
        if (recorder) recorder.frame(id, 'request', head ? redactFrame(frame, 'request', head.apiKey, head.version) : frame, at);
        if (head && !(head.apiKey === 0 && head.acks === 0)) {
          let heads = awaited.get(id);
          if (!heads) awaited.set(id, (heads = new Map()));
          heads.set(head.correlationId, head);
        }
        display.request(id, broker, frame, at);
      }
      if (broken) {
        framed = false;
        onEvent({ type: 'unframed', connection: id, direction: 'request', bytes: broken.bytes.length, reason: broken.reason });
        recorder?.raw(id, 'request', broken.bytes, broken.reason, at);
      }
    });
    from.on('end', () => to.end());
  };

  /**
   * Broker to client, frame by frame and in order. An answer whose new addresses need a
   * listener that is still starting waits for it, and the answers behind it wait too.
   */
  const pipeResponses = (id: number, from: net.Socket, to: net.Socket): { drained(): Promise<void> } => {
    const framer = new Framer();
    let framed = true;
    const queue: { frame: Buffer; at: number }[] = [];
    let waiting = false;
    let idle: (() => void)[] = [];
    const write = (bytes: Buffer): void => {
      if (!to.write(bytes) && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    };
    const flush = (): void => {
      while (queue.length > 0 && !waiting) {
        const { frame, at } = queue[0]!;
        const prepared = prepare(id, frame);
        if (prepared instanceof Promise) {
          waiting = true;
          void prepared.then(() => {
            waiting = false;
            flush();
          });
          return;
        }
        queue.shift();
        const head = frame.length >= 8 ? awaited.get(id)?.get(frame.readInt32BE(4)) : undefined;
        if (head) awaited.get(id)!.delete(head.correlationId);
        write(prepared.forwarded);
        if (recorder) {
          const recorded = head ? redactFrame(frame, 'response', head.apiKey, head.version) : frame;
          recorder.frame(id, 'response', recorded, at, prepared.forwarded === frame ? undefined : prepared.forwarded, prepared.changes);
        }
        display.response(id, frame, at, prepared.changes, prepared.decoded);
      }
      if (queue.length === 0) for (const wake of idle.splice(0)) wake();
    };
    from.on('data', (chunk: Buffer) => {
      const at = Date.now();
      if (!framed) {
        write(chunk);
        recorder?.raw(id, 'response', chunk, undefined, at);
        return;
      }
      const { frames, broken } = framer.push(chunk);
      for (const frame of frames) queue.push({ frame, at });
      flush();
      if (broken) {
        framed = false;
        onEvent({ type: 'unframed', connection: id, direction: 'response', bytes: broken.bytes.length, reason: broken.reason });
        // Written behind the frames before it, which may still wait for a listener.
        void new Promise<void>((resolve) => (queue.length === 0 ? resolve() : idle.push(resolve))).then(() => {
          write(broken.bytes);
          recorder?.raw(id, 'response', broken.bytes, broken.reason, at);
        });
      }
    });
    return { drained: () => new Promise<void>((resolve) => (queue.length === 0 && !waiting ? resolve() : idle.push(resolve))) };
  };

  /**
   * What to forward for one answer: itself, or a copy with the broker addresses replaced.
   * A promise when a listener must be started first (call again when it resolves).
   */
  const prepare = (id: number, frame: Buffer): { forwarded: Buffer; changes: AddressChange[]; decoded?: AnnotatedFrame } | Promise<void> => {
    const correlationId = frame.length >= 8 ? frame.readInt32BE(4) : -1;
    const head = awaited.get(id)?.get(correlationId);
    if (!head || !carriesAddresses(head.apiKey, head.version)) return { forwarded: frame, changes: [] };
    let decoded: AnnotatedFrame;
    try {
      decoded = annotateResponse(frame, head.apiKey, head.version);
    } catch {
      // Shown as undecoded when the tracker tries it; the bytes go on as they came.
      return { forwarded: frame, changes: [] };
    }
    const found = findAddresses(decoded.nodes);
    const startingUp: Promise<Listener>[] = [];
    const targets = new Map<string, HostPort>();
    for (const a of found) {
      const l = listenerFor({ host: a.host, port: a.port }, a.nodeId);
      if (l === undefined) continue;
      if (l instanceof Promise) startingUp.push(l);
      else targets.set(key(l.upstream), l.listen);
    }
    if (startingUp.length > 0) {
      return Promise.all(startingUp).then(
        () => undefined,
        (err: Error) => {
          onEvent({ type: 'rewrite-error', connection: id, message: `cannot listen for a broker: ${err.message}` });
        },
      );
    }
    try {
      const { frame: forwarded, changes } = rewriteAddresses(frame, decoded.nodes, (a) => targets.get(key({ host: a.host, port: a.port })));
      return { forwarded, changes, decoded };
    } catch (err) {
      onEvent({ type: 'rewrite-error', connection: id, message: (err as Error).message });
      return { forwarded: frame, changes: [], decoded };
    }
  };

  let bootstrap: Listener;
  try {
    bootstrap = await addListener(options.upstream, listen.port);
  } catch (err) {
    // The display's worker would keep the process alive, waiting for exchanges.
    await display.end();
    await recorder?.end();
    throw new KafkaWireError(`the proxy cannot listen on ${key(listen)}: ${(err as Error).message}`, { cause: err });
  }

  return {
    address: bootstrap.listen,
    listeners: () => [...listeners.values()].map(({ listen: l, upstream, nodeId }) => ({ listen: l, upstream, ...(nodeId !== undefined ? { nodeId } : {}) })),
    stats: display.stats,
    async close() {
      closing = true;
      await Promise.all([...starting.values()].map((p) => p.catch(() => undefined)));
      const closes = [...listeners.values()].map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
      for (const s of sockets) s.destroy();
      await Promise.all([...closes, ...connections]);
      await display.end();
      await recorder?.end();
    },
  };
}
