/**
 * Where the proxy's decoding and showing happen: beside the forwarding, never in its way.
 *
 * `inlineDisplay` decodes on the proxy's own thread, after the I/O at hand (setImmediate),
 * and hands each Exchange to a callback: what the library's `onExchange` gives.
 * `workerDisplay` sends copies of the frames to a worker thread that decodes, formats and
 * writes them to a file descriptor itself: what the CLI uses, so that a busy display costs
 * the forwarding thread one copy and one postMessage per batch of frames, nothing more.
 */
import { Worker } from 'node:worker_threads';
import { ExchangeTracker, newStats, type Exchange, type ProxyStats } from './exchange.js';
import type { ExchangeFilter } from './format.js';
import type { AnnotatedFrame } from '../decode/annotate-frame.js';
import type { AddressChange } from './rewrite.js';

export interface Display {
  readonly stats: ProxyStats;
  request(connection: number, broker: string, frame: Buffer, at: number): void;
  response(connection: number, frame: Buffer, at: number, changes: readonly AddressChange[], decoded?: AnnotatedFrame): void;
  closed(connection: number): void;
  /** Shows what is still queued; resolves when all of it is out. */
  end(): Promise<void>;
}

export function inlineDisplay(onExchange: (ex: Exchange) => void): Display {
  const tracker = new ExchangeTracker(onExchange);
  const deferred: (() => void)[] = [];
  const run = (): void => {
    for (const job of deferred.splice(0)) job();
  };
  const later = (job: () => void): void => {
    if (deferred.push(job) === 1) setImmediate(run);
  };
  return {
    stats: tracker.stats,
    // Requests are decoded when their exchange is shown; only their header is read here.
    request: (connection, broker, frame, at) => later(() => tracker.request(connection, broker, frame, at)),
    response: (connection, frame, at, changes, decoded) => later(() => tracker.response(connection, frame, at, changes, decoded)),
    closed: (connection) => later(() => tracker.closed(connection)),
    end: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      run();
    },
  };
}

export interface PrintOptions extends ExchangeFilter {
  /** summary (one line), verbose (the whole annotation) or json (one object per line). */
  format: 'summary' | 'verbose' | 'json';
  /** With json: each side's trace too. */
  verbose?: boolean;
  /** Where the lines go; default 1 (stdout). */
  fd?: number;
}

/** What goes to the worker: frames are copies (the proxy's buffers are reused views). */
export type WorkerEvent =
  | ['req', number, string, Uint8Array, number]
  | ['resp', number, Uint8Array, number, AddressChange[]]
  | ['closed', number]
  | ['end'];

function copy(frame: Buffer): Uint8Array {
  const out = new Uint8Array(frame.length);
  out.set(frame);
  return out;
}

/** The worker's entry; from the TypeScript sources (under tsx), through tsx's loader. */
function startWorker(print: PrintOptions): Worker {
  const here = new URL(import.meta.url);
  if (!here.pathname.endsWith('.ts')) return new Worker(new URL('./display-worker.js', here), { workerData: print });
  const entry = new URL('./display-worker.ts', here).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: print });
}

export function workerDisplay(print: PrintOptions, onError: (err: Error) => void = () => {}): Display {
  const stats = newStats();
  const worker = startWorker(print);
  worker.unref();
  let ended: (() => void) | undefined;
  let failed: Error | undefined;
  let batch: WorkerEvent[] = [];
  let transfer: ArrayBuffer[] = [];
  const flush = (): void => {
    const events = batch;
    const list = transfer;
    batch = [];
    transfer = [];
    worker.postMessage(events, list);
  };
  const send = (event: WorkerEvent, bytes?: Uint8Array): void => {
    if (failed) return;
    if (bytes) transfer.push(bytes.buffer as ArrayBuffer);
    if (batch.push(event) === 1) setImmediate(flush);
  };
  worker.on('message', (message: { stats: ProxyStats; done?: boolean }) => {
    Object.assign(stats, message.stats);
    if (message.done) ended?.();
  });
  // A display that fails leaves the forwarding alone: it is reported, and frames go on.
  worker.on('error', (err) => {
    failed = err;
    onError(err);
    ended?.();
  });
  worker.on('exit', () => ended?.());
  return {
    stats,
    request: (connection, broker, frame, at) => {
      const bytes = copy(frame);
      send(['req', connection, broker, bytes, at], bytes);
    },
    response: (connection, frame, at, changes) => {
      const bytes = copy(frame);
      send(['resp', connection, bytes, at, [...changes]], bytes);
    },
    closed: (connection) => send(['closed', connection]),
    end: async () => {
      if (!failed) {
        const done = new Promise<void>((resolve) => (ended = resolve));
        send(['end']);
        // A worker stuck on a huge backlog must not keep the proxy from stopping.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
      }
      await worker.terminate();
    },
  };
}
