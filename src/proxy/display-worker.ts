/** The worker thread of `workerDisplay` (display.ts): decodes, formats and writes exchanges. */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { PrintOptions, WorkerBatch } from './display.js';
import { ExchangeTracker } from './exchange.js';
import { jsonLine, matcher, summaryLine, verboseText } from './format.js';
import { exchangeWithRecords } from './records.js';

const print = workerData as PrintOptions;
const fd = print.fd ?? 1;
const show = matcher(print);
let out = '';
/** Verbose output annotates records too, which is asynchronous (decompression): kept in order by this chain. */
let chain: Promise<void> = Promise.resolve();
const tracker = new ExchangeTracker((ex) => {
  if (!show(ex)) return;
  if (print.format === 'verbose' || (print.format === 'json' && print.verbose)) {
    chain = chain.then(async () => {
      const full = await exchangeWithRecords(ex);
      out += print.format === 'json' ? `${jsonLine(full, true)}\n` : verboseText(full);
    });
  } else if (print.format === 'json') out += `${jsonLine(ex, print.verbose)}\n`;
  else out += `${summaryLine(ex)}\n`;
});

function write(): void {
  let buf = Buffer.from(out);
  out = '';
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

parentPort!.on('message', ({ events, bytes }: WorkerBatch) => {
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let done = false;
  for (const e of events) {
    switch (e[0]) {
      case 'req':
        tracker.request(e[1], e[2], all.subarray(e[3], e[3] + e[4]), e[5]);
        break;
      case 'resp':
        tracker.response(e[1], all.subarray(e[2], e[2] + e[3]), e[4], e[5]);
        break;
      case 'closed':
        tracker.closed(e[1]);
        break;
      case 'end':
        done = true;
        break;
    }
  }
  void chain.then(() => {
    if (out.length > 0) write();
    parentPort!.postMessage({ stats: tracker.stats, done });
  });
});
