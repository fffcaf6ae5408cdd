#!/usr/bin/env node
import { failureText, main } from './cli/index.js';

// Output piped into something that stops reading (`kafka-wire decode ... | head`): stop
// quietly, as other command-line tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// main reports usage errors itself (exit code 2); anything it throws is a failure.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kafka-wire: ${failureText(err)}\n`);
    process.exitCode = 1;
  },
);
