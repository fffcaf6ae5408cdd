/** Wrong command-line use: exit code 2, message only. */
export class UsageError extends Error {}
