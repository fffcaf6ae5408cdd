#!/usr/bin/env node
import { main, UsageError } from './cli/index.js';
import { KafkaWireError } from './errors.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // parseArgs throws TypeErrors with an ERR_PARSE_ARGS_* code for bad flags.
    const usage = err instanceof UsageError || (err instanceof TypeError && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS'));
    if (usage || err instanceof KafkaWireError) process.stderr.write(`kafka-wire: ${(err as Error).message}\n`);
    else process.stderr.write(`kafka-wire: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
