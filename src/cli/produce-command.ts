/**
 * `kafka-wire produce`: one record per line of stdin, like `kcat -P`.
 *
 *   printf 'k1:hello\nk2:world\n' | kafka-wire produce -b 127.0.0.1:9092 -t demo -K :
 */
import { ConfigError } from '../errors.js';
import { Producer } from '../producer/producer.js';
import type { SaslOptions, TlsOptions } from '../net/security.js';
import type { ProducerOptions } from '../producer/types.js';
import { signalExitCode } from './signals.js';
import { checkTopicName } from './topic-name.js';
import { UsageError } from './usage-error.js';
import { inCliWords } from './cli-wording.js';

export interface ProduceCommandOptions {
  bootstrap: string;
  topic: string;
  keySeparator?: string;
  header?: string[];
  partition?: string;
  compression?: string;
  acks?: string;
  lingerMs?: string;
  maxBlockMs?: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
  input?: NodeJS.ReadableStream;
  out?: NodeJS.WritableStream;
  /**
   * For tests: resolves to interrupt as SIGINT or SIGTERM would (the signal's name); once
   * for the first, again to stop waiting for what is buffered. Else the process's signals.
   */
  interrupts?: AsyncIterable<NodeJS.Signals>;
}

/** How often the end-of-input wait says what it waits for. */
const WAITING_NOTE_MS = 10_000;

/** How long an interrupted run waits for what it already read to be delivered. */
const INTERRUPT_DRAIN_MS = 5_000;

/**
 * The input's lines as the exact bytes between newline bytes, as kcat -P reads them: read
 * as text, bytes that are not UTF-8 became U+FFFD, and a lone \r split a line. Ends, leaving
 * the input as it is, once `stop` resolves; the last line needs no newline.
 */
async function* byteLines(input: NodeJS.ReadableStream, stop: Promise<void>): AsyncGenerator<Buffer> {
  const chunks = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const stopped = stop.then(() => undefined);
  // The start of a line that spans chunks, kept apart so a long line costs one copy, not one per chunk.
  let partial: Buffer[] = [];
  for (;;) {
    const next = await Promise.race([chunks.next(), stopped]);
    if (next === undefined) return;
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      // A copy: a slice would keep the whole chunk alive while its record waits to be sent.
      yield Buffer.concat([...partial, chunk.subarray(start, nl)]);
      partial = [];
      start = nl + 1;
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
  }
  if (partial.length > 0) yield Buffer.concat(partial);
}

/** SIGINT and SIGTERM as they come, while the command runs (the default handlers, which exit at once, are replaced meanwhile). */
async function* processSignals(stop: Promise<void>): AsyncGenerator<NodeJS.Signals> {
  const queue: NodeJS.Signals[] = [];
  let wake: (() => void) | undefined;
  const on = (signal: NodeJS.Signals): void => {
    queue.push(signal);
    wake?.();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  let stopped = false;
  void stop.then(() => {
    stopped = true;
    wake?.();
  });
  try {
    while (!stopped) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const next = queue.shift();
      if (next) yield next;
    }
  } finally {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  }
}

function parseHeaders(list: readonly string[] | undefined): Array<{ key: string; value: string }> | undefined {
  if (!list || list.length === 0) return undefined;
  return list.map((h) => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header wants key=value, got ${JSON.stringify(h)}`);
    return { key: h.slice(0, eq), value: h.slice(eq + 1) };
  });
}

function parseAcks(acks: string | undefined): ProducerOptions['acks'] {
  if (acks === undefined || acks === 'all' || acks === '-1') return -1;
  if (acks === '0' || acks === '1') return Number(acks) as 0 | 1;
  throw new UsageError('--acks is all, -1, 1 or 0');
}

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function parseCompression(value: string | undefined): ProducerOptions['compression'] {
  if (value === undefined) return 'none';
  if (!(COMPRESSIONS as readonly string[]).includes(value)) throw new UsageError(`--compression is ${COMPRESSIONS.join(', ')}; got ${JSON.stringify(value)}`);
  return value as ProducerOptions['compression'];
}

/** A flag's value as a non-negative integer; `fallback` when absent. */
function count(value: string | undefined, flag: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** A Producer; options the flags made that it refuses (a bad broker address) are usage errors, as other flags' are. */
function producerFromFlags(options: ProducerOptions): Producer {
  try {
    return new Producer(options);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(inCliWords(err.message));
    throw err;
  }
}

export async function produceCommand(opts: ProduceCommandOptions): Promise<number> {
  checkTopicName(opts.topic, '--topic');
  // An empty separator would be found at 0 in every line: every key empty, never null.
  if (opts.keySeparator === '') throw new UsageError('--key-separator cannot be empty: give the string between key and value, e.g. -K :');
  const headers = parseHeaders(opts.header);
  const partition = count(opts.partition, '--partition');
  const separator = opts.keySeparator === undefined ? undefined : Buffer.from(opts.keySeparator);
  const acks = parseAcks(opts.acks);
  const producer = producerFromFlags({
    bootstrap: opts.bootstrap,
    clientId: 'kafka-wire-cli',
    acks,
    compression: parseCompression(opts.compression),
    lingerMs: count(opts.lingerMs, '--linger-ms', 5)!,
    ...(opts.maxBlockMs !== undefined ? { maxBlockMs: count(opts.maxBlockMs, '--max-block-ms')! } : {}),
    ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
    ...(opts.sasl !== undefined ? { sasl: opts.sasl } : {}),
  });
  const out = opts.out ?? process.stderr;
  let sent = 0;
  let delivered = 0;
  let failed = 0;
  let firstError: Error | undefined;
  const started = Date.now();
  // Ctrl-C or SIGTERM: stop reading, deliver what was read (up to INTERRUPT_DRAIN_MS), print
  // the summary, exit as the signal would; a second signal stops the wait. Exiting at once
  // lost every line read and not yet delivered, without a word.
  const input = opts.input ?? process.stdin;
  let interrupted: NodeJS.Signals | undefined;
  let onInterrupt!: () => void;
  const interruption = new Promise<void>((resolve) => (onInterrupt = resolve));
  let gaveUpWaiting = false;
  let giveUp!: () => void;
  const gaveUp = new Promise<void>((resolve) => (giveUp = resolve));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const watching = (async () => {
    for await (const signal of opts.interrupts ?? processSignals(finished)) {
      if (interrupted) {
        out.write(`${signal} again: not waiting any longer\n`);
        gaveUpWaiting = true;
        return giveUp();
      }
      interrupted = signal;
      // Else an open pipe (or terminal) would keep the process alive after the summary.
      if (input === process.stdin) process.stdin.destroy();
      out.write(`${signal}: no more input read; delivering what is buffered (up to ${INTERRUPT_DRAIN_MS / 1000} s; ${signal} again to stop waiting)\n`);
      onInterrupt();
    }
  })();
  try {
    // A broker that cannot be reached fails here, at once, not after maxBlockMs per record.
    await Promise.race([producer.connect(), interruption]);
    for await (const line of byteLines(input, interruption)) {
      if (interrupted) break;
      let key: Buffer | null = null;
      let value = line;
      if (separator !== undefined) {
        const at = line.indexOf(separator);
        if (at >= 0) {
          key = line.subarray(0, at);
          value = line.subarray(at + separator.length);
        }
      }
      sent++;
      let accepted: boolean;
      try {
        accepted = producer.produce({ topic: opts.topic, key, value, headers, partition }, (err) => {
          if (err) {
            failed++;
            firstError ??= err;
          } else delivered++;
        });
      } catch (err) {
        // A line that can never be sent (too big) fails alone: the lines after it still go.
        failed++;
        firstError ??= err as Error;
        continue;
      }
      if (!accepted) await Promise.race([producer.ready(), interruption]);
    }
    // Input ended: a broker that went away would make this wait (up to deliveryTimeoutMs) in silence.
    const note = setInterval(() => {
      const waiting = sent - delivered - failed;
      if (waiting > 0) out.write(`still waiting for ${waiting} record(s) to be acknowledged (they fail after deliveryTimeoutMs, 120 s; Ctrl-C to stop)\n`);
    }, WAITING_NOTE_MS);
    try {
      await Promise.race([producer.flush(), interruption]);
    } finally {
      clearInterval(note);
    }
  } finally {
    // Not interrupted: flush() ended every record, and close() has nothing left to wait for.
    const closing = producer.close(interrupted ? { timeoutMs: INTERRUPT_DRAIN_MS } : {});
    await Promise.race([closing, gaveUp]);
    finish();
    // The test's own interrupts end when it says; the process's stop listening now.
    if (!opts.interrupts) await watching;
  }
  const seconds = (Date.now() - started) / 1000;
  const lost = sent - delivered - failed;
  out.write(
    // With acks=0 a record's callback says only that its request was written to the socket.
    `${delivered} of ${sent} records ${acks === 0 ? 'sent (acks=0: not confirmed)' : 'delivered'} to ${opts.topic} in ${seconds.toFixed(2)} s${failed ? `, ${failed} failed: ${inCliWords(firstError?.message ?? '')}` : ''}` +
      `${interrupted ? ` (interrupted by ${interrupted}${lost > 0 ? `; ${lost} not known to be ${acks === 0 ? 'sent' : 'delivered'}` : ''})` : ''}\n`,
  );
  const code = interrupted ? signalExitCode(interrupted) : failed > 0 ? 1 : 0;
  // Told twice to stop: the connections still closing must not keep the process up.
  if (gaveUpWaiting && !opts.interrupts) process.exit(code);
  return code;
}
