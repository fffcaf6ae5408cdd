/**
 * `kafka-wire produce`: one record per line of stdin, like `kcat -P`.
 *
 *   printf 'k1:hello\nk2:world\n' | kafka-wire produce -b 127.0.0.1:9092 -t demo -K :
 */
import { createInterface } from 'node:readline';
import { Producer } from '../producer/producer.js';
import type { SaslOptions, TlsOptions } from '../net/security.js';
import type { ProducerOptions } from '../producer/types.js';
import { UsageError } from './usage-error.js';

export interface ProduceCommandOptions {
  bootstrap: string;
  topic: string;
  keySeparator?: string;
  header?: string[];
  partition?: string;
  compression?: string;
  acks?: string;
  lingerMs?: string;
  tls?: TlsOptions;
  sasl?: SaslOptions;
  input?: NodeJS.ReadableStream;
  out?: NodeJS.WritableStream;
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

export async function produceCommand(opts: ProduceCommandOptions): Promise<number> {
  const headers = parseHeaders(opts.header);
  const partition = count(opts.partition, '--partition');
  const producer = new Producer({
    bootstrap: opts.bootstrap,
    clientId: 'kafka-wire-cli',
    acks: parseAcks(opts.acks),
    compression: parseCompression(opts.compression),
    lingerMs: count(opts.lingerMs, '--linger-ms', 5)!,
    ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
    ...(opts.sasl !== undefined ? { sasl: opts.sasl } : {}),
  });
  const out = opts.out ?? process.stderr;
  let sent = 0;
  let delivered = 0;
  let failed = 0;
  let firstError: Error | undefined;
  const started = Date.now();
  try {
    // A broker that cannot be reached fails here, at once, not after maxBlockMs per record.
    // Before the lines are read: readline drops lines emitted before iteration begins.
    await producer.connect();
    const lines = createInterface({ input: opts.input ?? process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      let key: string | null = null;
      let value = line;
      if (opts.keySeparator !== undefined) {
        const at = line.indexOf(opts.keySeparator);
        if (at >= 0) {
          key = line.slice(0, at);
          value = line.slice(at + opts.keySeparator.length);
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
      if (!accepted) await producer.ready();
    }
    await producer.flush();
  } finally {
    await producer.close();
  }
  const seconds = (Date.now() - started) / 1000;
  out.write(`${delivered} of ${sent} records delivered to ${opts.topic} in ${seconds.toFixed(2)} s${failed ? `, ${failed} failed: ${firstError?.message}` : ''}\n`);
  return failed > 0 ? 1 : 0;
}
