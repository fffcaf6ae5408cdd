/** `kafka-wire decode --replay FILE`: a proxy recording shown as the proxy showed it live. */
import { jsonLine, matcher, summaryLine, verboseText, type ExchangeFilter } from './format.js';
import { replayRecording } from './recording.js';

export interface ReplayOptions extends ExchangeFilter {
  json?: boolean;
  verbose?: boolean;
  out?: NodeJS.WritableStream;
}

/** Prints every exchange of the recording; returns the counts line's numbers' source. */
export async function printReplay(path: string, opts: ReplayOptions = {}): Promise<void> {
  const out = opts.out ?? process.stdout;
  const show = matcher(opts);
  const stats = await replayRecording(
    path,
    (ex) => {
      if (!show(ex)) return;
      if (opts.json) out.write(`${jsonLine(ex, opts.verbose)}\n`);
      else out.write(opts.verbose ? verboseText(ex) : `${summaryLine(ex)}\n`);
    },
    (notice) => {
      if (!opts.json) out.write(`${new Date(notice.t).toISOString().slice(11, 23)} ${notice.text}\n`);
    },
  );
  if (!opts.json) {
    out.write(`${stats.exchanges} exchanges, ${stats.frames} frames: ${stats.decoded} decoded (${stats.beyondDefinitions} as far as Kafka defines them), ${stats.undecoded} not decoded, ${stats.unknownFields} unknown tagged fields, ${stats.withTrailingBytes} with bytes after their last field; ${stats.rewrites} addresses rewritten\n`);
  }
}
