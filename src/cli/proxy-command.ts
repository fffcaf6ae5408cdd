/** `kafka-wire proxy`: a decoding proxy in front of a broker, until Ctrl-C. */
import { KafkaWireError } from '../errors.js';
import { resolveSasl, resolveTls, type SaslOptions, type TlsOptions } from '../net/security.js';
import { jsonLine, matcher, statsLine, summaryLine, verboseText } from '../proxy/format.js';
import { startProxy, type ProxyEvent } from '../proxy/proxy.js';
import { checkUpstream } from '../proxy/upstream.js';
import { checkWritable, UsageError } from './usage-error.js';
import { inCliWords } from './cli-wording.js';

export interface ProxyCommandOptions {
  listen?: string;
  upstream: string;
  verbose: boolean;
  json: boolean;
  api?: string[];
  topic?: string[];
  errorsOnly: boolean;
  record?: string;
  /** Try the upstream once before listening (default); false for a proxy started before its broker. */
  upstreamCheck?: boolean;
  tls?: TlsOptions;
  sasl?: SaslOptions;
  /** For tests: resolves to stop the proxy instead of waiting for SIGINT/SIGTERM. */
  stop?: Promise<void>;
  /** For tests: exchanges are written here, decoded on the main thread (else a worker prints them to stdout). */
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

function address(value: string, flag: string, allowZero = false): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:,]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (port === 0 && !allowZero)) throw new UsageError(`${flag}: bad address ${JSON.stringify(value)} (expected host:port)`);
  return { host: (m[1] ?? m[2])!, port };
}

function eventText(e: ProxyEvent, upstreamTls: boolean): string {
  switch (e.type) {
    case 'listening':
      return `listening on ${e.listen.host}:${e.listen.port} for ${e.upstream.host}:${e.upstream.port}${e.nodeId !== undefined ? ` (broker ${e.nodeId})` : ' (bootstrap)'}`;
    case 'open':
      return `#${e.connection} opened from ${e.client} to ${e.broker}`;
    case 'close':
      return `#${e.connection} closed`;
    case 'upstream-error':
      return `#${e.connection} ${e.broker}: ${inCliWords(e.message)}`;
    case 'unframed': {
      // The client is sent these bytes as they are, and may say it needs TLS itself: it does not, the proxy does.
      const tlsUpstream = e.direction === 'response' && !upstreamTls && e.reason.endsWith('(these bytes are TLS)');
      const hint = tlsUpstream ? '; the upstream is a TLS listener: restart the proxy with --tls (or --tls-ca FILE)' : '';
      return `#${e.connection} ${e.bytes} ${e.direction} bytes are no Kafka frame (${e.reason}); forwarding this connection's ${e.direction}s untouched, undecoded${hint}`;
    }
    case 'rewrite-error':
      return `#${e.connection} addresses left as they were: ${e.message}`;
    case 'display-error':
      return `showing exchanges failed (forwarding goes on): ${e.message}`;
    case 'record-error':
      return `recording failed, and stopped there (forwarding goes on): ${e.message}`;
  }
}

export async function proxyCommand(opts: ProxyCommandOptions): Promise<number> {
  const err = opts.err ?? process.stderr;
  const listen = address(opts.listen ?? '127.0.0.1:19092', '--listen', true);
  const upstream = address(opts.upstream, '--upstream');
  let show: ReturnType<typeof matcher>;
  try {
    show = matcher({ apis: opts.api, topics: opts.topic, errorsOnly: opts.errorsOnly });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (opts.record !== undefined) checkWritable(opts.record, '--record');
  if (opts.upstreamCheck !== false) {
    try {
      await checkUpstream({ ...upstream, tls: resolveTls(opts.tls), sasl: resolveSasl(opts.sasl) });
    } catch (e) {
      if (!(e instanceof KafkaWireError)) throw e;
      // One line, the upstream's trouble first: else the proxy would listen, and fail each client's connection.
      throw new KafkaWireError(`proxy: checking the upstream: ${e.message} (--no-upstream-check starts the proxy anyway)`, { cause: e });
    }
  }
  const proxy = await startProxy({
    listen,
    upstream,
    tls: opts.tls,
    sasl: opts.sasl,
    record: opts.record,
    // Decoded, filtered and printed by a worker thread, out of the forwarding's way.
    ...(opts.out
      ? {
          onExchange: (ex) => {
            if (!show(ex)) return;
            if (opts.json) opts.out!.write(`${jsonLine(ex, opts.verbose)}\n`);
            else opts.out!.write(opts.verbose ? verboseText(ex) : `${summaryLine(ex)}\n`);
          },
        }
      : { print: { format: opts.json ? 'json' : opts.verbose ? 'verbose' : 'summary', verbose: opts.verbose, apis: opts.api, topics: opts.topic, errorsOnly: opts.errorsOnly } }),
    onEvent: (e) => {
      // Events go to stderr, so that stdout stays exchanges only (JSON lines with --json).
      err.write(`proxy: ${eventText(e, opts.tls !== undefined && opts.tls !== false)}\n`);
    },
  });
  const stop =
    opts.stop ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  await stop;
  await proxy.close();
  err.write(`proxy: ${statsLine(proxy.stats)}${opts.record ? `; recorded in ${opts.record}` : ''}\n`);
  return 0;
}
