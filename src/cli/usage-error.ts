import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Wrong command-line use: exit code 2, message only. */
export class UsageError extends Error {}

/**
 * A UsageError naming `flag` unless `file` can be written (it, or the directory it would be
 * made in): asked before a run, so a report or recording that cannot be written is not
 * found out after minutes, or as a system error that names no flag.
 */
export function checkWritable(file: string, flag: string): void {
  try {
    accessSync(existsSync(file) ? file : dirname(resolve(file)), constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
