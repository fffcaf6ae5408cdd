#!/usr/bin/env node
import { main } from './cli/index.js';
import { KafkaWireError } from './errors.js';

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
    if (err instanceof KafkaWireError) process.stderr.write(`kafka-wire: ${err.message}\n`);
    else process.stderr.write(`kafka-wire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
