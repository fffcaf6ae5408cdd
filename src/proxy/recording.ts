/**
 * A recorded conversation: one JSON object per line, in the order the proxy saw things.
 *
 *   {"kafkaWireRecording":1,"t":…,"upstream":"host:port"}               first line
 *   {"t":…,"conn":1,"event":"open","client":"127.0.0.1:50000","broker":"host:port"}
 *   {"t":…,"conn":1,"dir":"request","frame":"<base64>"}
 *   {"t":…,"conn":1,"dir":"response","frame":"<base64>","forwarded":"<base64>","rewrites":[…]}
 *   {"t":…,"conn":1,"dir":"request","raw":"<base64>","reason":"…"}      bytes that were no frame
 *   {"t":…,"conn":1,"event":"close"}
 *
 * `t` is milliseconds since the epoch; `frame` the frame as its sender sent it, size
 * prefix included; `forwarded` only when the proxy changed it (broker addresses). The
 * token bytes of SaslAuthenticate frames are recorded as `*` (redact.ts).
 * `kafka-wire decode --replay FILE` shows it as the proxy did.
 */
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { KafkaWireError } from '../errors.js';
import { ExchangeTracker, type Exchange, type ProxyStats } from './exchange.js';
import type { AddressChange } from './rewrite.js';

export const RECORDING_VERSION = 1;

export type RecordLine =
  | { kafkaWireRecording: number; t: number; upstream: string }
  | { t: number; conn: number; event: 'open'; client: string; broker: string }
  | { t: number; conn: number; event: 'close' }
  | { t: number; conn: number; dir: 'request' | 'response'; frame: string; forwarded?: string; rewrites?: AddressChange[] }
  | { t: number; conn: number; dir: 'request' | 'response'; raw: string; reason?: string };

export class Recorder {
  readonly #out: WriteStream;

  /**
   * Opens `path` at once, so that one that cannot be written throws here (a stream opens
   * its file later and reports failure as an 'error' event); `onError` hears of a write
   * that fails afterwards (a full disk), and the recording stops there.
   */
  constructor(path: string, upstream: string, onError: (err: Error) => void = () => {}) {
    this.#out = createWriteStream(path, { fd: openSync(path, 'w') });
    this.#out.once('error', onError);
    this.#line({ kafkaWireRecording: RECORDING_VERSION, t: Date.now(), upstream });
  }

  #line(line: RecordLine): void {
    if (this.#out.errored) return;
    this.#out.write(`${JSON.stringify(line)}\n`);
  }

  open(conn: number, client: string, broker: string, t = Date.now()): void {
    this.#line({ t, conn, event: 'open', client, broker });
  }

  close(conn: number, t = Date.now()): void {
    this.#line({ t, conn, event: 'close' });
  }

  frame(conn: number, dir: 'request' | 'response', frame: Buffer, t: number, forwarded?: Buffer, rewrites?: readonly AddressChange[]): void {
    this.#line({
      t,
      conn,
      dir,
      frame: frame.toString('base64'),
      ...(forwarded ? { forwarded: forwarded.toString('base64'), rewrites: [...(rewrites ?? [])] } : {}),
    });
  }

  raw(conn: number, dir: 'request' | 'response', bytes: Buffer, reason: string | undefined, t = Date.now()): void {
    this.#line({ t, conn, dir, raw: bytes.toString('base64'), ...(reason ? { reason } : {}) });
  }

  end(): Promise<void> {
    if (this.#out.errored || this.#out.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.#out.end(() => resolve()));
  }
}

export interface ReplayNotice {
  readonly t: number;
  readonly conn: number;
  readonly text: string;
}

/**
 * Reads a recording and feeds it through the same pairing and decoding as the live proxy:
 * `onExchange` for each exchange, `onNotice` for connections opening and closing and for
 * bytes that were no frame.
 */
export async function replayRecording(
  path: string,
  onExchange: (ex: Exchange) => void,
  onNotice: (notice: ReplayNotice) => void = () => {},
): Promise<ProxyStats> {
  const text = await readFile(path, 'utf8');
  const tracker = new ExchangeTracker(onExchange);
  const brokers = new Map<number, string>();
  let upstream = '?';
  let first = true;
  const lines = text.split('\n');
  const lastLine = lines.findLastIndex((l) => l.trim() !== '');
  for (const [i, raw] of lines.entries()) {
    if (raw.trim() === '') continue;
    let line: RecordLine;
    try {
      line = JSON.parse(raw) as RecordLine;
    } catch {
      // A proxy stopped while writing leaves its last line cut off: what came before stands.
      if (i === lastLine && !first) {
        onNotice({ t: Date.now(), conn: 0, text: `line ${i + 1} of ${path} is cut off (the recording ends in the middle of it): left out` });
        break;
      }
      throw new KafkaWireError(`${path}:${i + 1}: not a JSON line (${first ? 'is this a proxy --record file?' : 'the recording is damaged here'})`);
    }
    if (first) {
      first = false;
      if (!('kafkaWireRecording' in line)) throw new KafkaWireError(`${path} is not a kafka-wire proxy recording (its first line has no "kafkaWireRecording")`);
      if (line.kafkaWireRecording > RECORDING_VERSION) throw new KafkaWireError(`${path} is a version ${line.kafkaWireRecording} recording; this kafka-wire reads version ${RECORDING_VERSION}`);
      upstream = line.upstream;
      continue;
    }
    if ('event' in line) {
      if (line.event === 'open') {
        brokers.set(line.conn, line.broker);
        onNotice({ t: line.t, conn: line.conn, text: `connection #${line.conn} opened from ${line.client} to ${line.broker}` });
      } else {
        tracker.closed(line.conn);
        onNotice({ t: line.t, conn: line.conn, text: `connection #${line.conn} closed` });
      }
      continue;
    }
    if ('raw' in line) {
      onNotice({ t: line.t, conn: line.conn, text: `connection #${line.conn}: ${Buffer.from(line.raw, 'base64').length} ${line.dir} bytes forwarded untouched, not framed${line.reason ? ` (${line.reason})` : ''}` });
      continue;
    }
    if (!('dir' in line)) continue;
    const frame = Buffer.from(line.frame, 'base64');
    if (line.dir === 'request') tracker.request(line.conn, brokers.get(line.conn) ?? upstream, frame, line.t);
    else tracker.response(line.conn, frame, line.t, line.rewrites ?? []);
  }
  return tracker.stats;
}
