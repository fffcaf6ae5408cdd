/** `kafka-wire decode --replay FILE`: a proxy recording shown as the proxy showed it live. */
import { jsonLine, matcher, statsLine, summaryLine, verboseText, type ExchangeFilter } from './format.js';
import { replayRecording } from './recording.js';
import { exchangeWithRecords } from './records.js';

export interface ReplayOptions extends ExchangeFilter {
  json?: boolean;
  verbose?: boolean;
  out?: NodeJS.WritableStream;
}

/** Prints every exchange of the recording; returns the counts line's numbers' source. */
export async function printReplay(path: string, opts: ReplayOptions = {}): Promise<void> {
  const out = opts.out ?? process.stdout;
  const show = matcher(opts);
  // Verbose output annotates records too (asynchronous: decompression), so lines are kept in order by a chain.
  let chain: Promise<void> = Promise.resolve();
  const emit = (text: () => string | Promise<string>): void => {
    chain = chain.then(async () => {
      out.write(await text());
    });
  };
  const stats = await replayRecording(
    path,
    (ex) => {
      if (!show(ex)) return;
      if (opts.verbose) emit(async () => (opts.json ? `${jsonLine(await exchangeWithRecords(ex), true)}\n` : verboseText(await exchangeWithRecords(ex))));
      else emit(() => (opts.json ? `${jsonLine(ex)}\n` : `${summaryLine(ex)}\n`));
    },
    (notice) => {
      if (!opts.json) emit(() => `${new Date(notice.t).toISOString().slice(11, 23)} ${notice.text}\n`);
    },
  );
  await chain;
  if (!opts.json) {
    out.write(`${statsLine(stats)}\n`);
  }
}
