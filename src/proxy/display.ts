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
  /**
   * The connection closed; `shown` is called once every exchange of it the display had
   * before is out (or the display failed), so that a notice of the close follows them.
   */
  closed(connection: number, shown: () => void): void;
  /** Shows what is still queued; resolves when all of it is out. */
  end(): Promise<void>;
}

/**
 * An `onExchange` that throws is reported to `onError` and the display goes on: the jobs
 * deferred with the one that threw still run (a request dropped unseen would leave its
 * answer unmatched).
 */
export function inlineDisplay(onExchange: (ex: Exchange) => void, onError: (err: Error) => void = () => {}): Display {
  const tracker = new ExchangeTracker(onExchange);
  const deferred: (() => void)[] = [];
  const run = (): void => {
    for (const job of deferred.splice(0)) {
      try {
        job();
      } catch (err) {
        onError(err instanceof Error ? err : new Error(`onExchange threw ${String(err)}`));
      }
    }
  };
  const later = (job: () => void): void => {
    if (deferred.push(job) === 1) setImmediate(run);
  };
  return {
    stats: tracker.stats,
    // Requests are decoded when their exchange is shown; only their header is read here.
    request: (connection, broker, frame, at) => later(() => tracker.request(connection, broker, frame, at)),
    response: (connection, frame, at, changes, decoded) => later(() => tracker.response(connection, frame, at, changes, decoded)),
    closed: (connection, shown) =>
      later(() => {
        try {
          tracker.closed(connection);
        } finally {
          shown();
        }
      }),
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

/**
 * What goes to the worker, a batch at a time: events whose frames are [offset, length] in
 * the batch's one buffer (copies: the proxy's buffers are views it reuses).
 */
export type WorkerEvent =
  | ['req', number, string, number, number, number]
  | ['resp', number, number, number, number, AddressChange[]]
  | ['closed', number]
  | ['end'];

export interface WorkerBatch {
  events: WorkerEvent[];
  bytes: Uint8Array;
}

/** How long frames wait to be sent to the worker together: one message per batch, not per frame. */
const BATCH_MS = 20;
/** ... unless this many bytes are waiting. */
const BATCH_BYTES = 4 * 1024 * 1024;

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
  let events: WorkerEvent[] = [];
  let frames: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Close notices waiting for the batch being gathered to be shown. */
  let shownAfter: Array<() => void> = [];
  /** The same for each batch the worker has and has not answered yet, oldest first (it answers each once, in order). */
  const inWorker: Array<Array<() => void>> = [];
  const allShown = (): void => {
    const notices = [...inWorker.splice(0).flat(), ...shownAfter];
    shownAfter = [];
    for (const shown of notices) shown();
  };
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    // One fresh buffer for the batch, transferred (not a pooled one, which others share).
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const f of frames) {
      bytes.set(f, at);
      at += f.length;
    }
    const batch: WorkerBatch = { events, bytes };
    events = [];
    frames = [];
    size = 0;
    inWorker.push(shownAfter);
    shownAfter = [];
    worker.postMessage(batch, [bytes.buffer]);
  };
  const send = (event: WorkerEvent, frame?: Buffer): void => {
    if (failed) return;
    if (frame) {
      frames.push(frame);
      size += frame.length;
    }
    events.push(event);
    if (event[0] === 'end' || size >= BATCH_BYTES) flush();
    else if (timer === undefined) timer = setTimeout(flush, BATCH_MS);
  };
  worker.on('message', (message: { stats: ProxyStats; done?: boolean }) => {
    Object.assign(stats, message.stats);
    for (const shown of inWorker.shift() ?? []) shown();
    if (message.done) ended?.();
  });
  // A display that fails leaves the forwarding alone: it is reported, and frames go on.
  worker.on('error', (err) => {
    failed = err;
    onError(err);
    allShown();
    ended?.();
  });
  worker.on('exit', () => {
    // Nothing sent from now on could be shown: a close's notice then goes out at once.
    failed ??= new Error('the display worker exited');
    allShown();
    ended?.();
  });
  return {
    stats,
    // The frame is a view of a socket chunk that stays as it is: it is copied at the flush.
    request: (connection, broker, frame, at) => send(['req', connection, broker, size, frame.length, at], frame),
    response: (connection, frame, at, changes) => send(['resp', connection, size, frame.length, at, [...changes]], frame),
    // Sent at once rather than within BATCH_MS: closes are few, and their notices wait for it.
    closed: (connection, shown) => {
      if (failed) return shown();
      send(['closed', connection]);
      shownAfter.push(shown);
      flush();
    },
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
