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

export async function produceCommand(opts: ProduceCommandOptions): Promise<number> {
  const headers = parseHeaders(opts.header);
  const partition = opts.partition === undefined ? undefined : Number(opts.partition);
  if (partition !== undefined && !Number.isInteger(partition)) throw new UsageError('--partition must be an integer');
  const producer = new Producer({
    bootstrap: opts.bootstrap,
    clientId: 'kafka-wire-cli',
    acks: parseAcks(opts.acks),
    compression: (opts.compression ?? 'none') as ProducerOptions['compression'],
    lingerMs: opts.lingerMs === undefined ? 5 : Number(opts.lingerMs),
    ...(opts.tls !== undefined ? { tls: opts.tls } : {}),
    ...(opts.sasl !== undefined ? { sasl: opts.sasl } : {}),
  });
  const out = opts.out ?? process.stderr;
  let sent = 0;
  let delivered = 0;
  let failed = 0;
  let firstError: Error | undefined;
  const started = Date.now();
  const lines = createInterface({ input: opts.input ?? process.stdin, crlfDelay: Infinity });
  try {
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
      const accepted = producer.produce({ topic: opts.topic, key, value, headers, partition }, (err) => {
        if (err) {
          failed++;
          firstError ??= err;
        } else delivered++;
      });
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
