/**
 * `kafka-wire <command>`: small tools over the library, for people debugging Kafka.
 *
 * Each command's synopsis and summary are written once, in COMMANDS; the overall usage
 * and `kafka-wire <command> --help` are both built from them.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KafkaWireError } from '../errors.js';
import { inCliWords } from './cli-wording.js';
import { SECURITY_FLAGS, SECURITY_USAGE, securityFromFlags } from './security-flags.js';
import { VERSION } from '../version.js';
import { UsageError } from './usage-error.js';

export { UsageError };

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP_FLAG }>>['values'];

interface Command {
  /** The flags after the command name, one group per line. */
  readonly synopsis: readonly string[];
  /** What the command does, one or more lines. */
  readonly summary: readonly string[];
  /** Whether it connects to a broker, and so takes the TLS and SASL flags. */
  readonly connects: boolean;
  readonly options: ParseArgsOptionsConfig;
  /** Runs with the values parseArgs found for `options`. */
  run(values: Record<string, unknown>): Promise<number>;
}

function command<const O extends ParseArgsOptionsConfig>(spec: {
  synopsis: readonly string[];
  summary: readonly string[];
  connects: boolean;
  options: O;
  run: (values: Values<O>) => Promise<number>;
}): Command {
  return { ...spec, options: { ...spec.options, ...HELP_FLAG }, run: (values) => spec.run(values as Values<O>) };
}

// The command implementations are imported when run, so that `--help` loads none of them.
const COMMANDS: Record<string, Command> = {
  'api-versions': command({
    synopsis: ['--bootstrap HOST:PORT [--json]'],
    summary: ['what a broker supports, and the version kafka-wire would use'],
    connects: true,
    options: { bootstrap: { type: 'string', short: 'b' }, json: { type: 'boolean' }, ...SECURITY_FLAGS },
    run: async (values) => {
      const { apiVersionsCommand } = await import('./broker-commands.js');
      return apiVersionsCommand({ bootstrap: required(values.bootstrap, '--bootstrap'), json: values.json ?? false, ...securityFromFlags(values) });
    },
  }),
  metadata: command({
    synopsis: ['--bootstrap HOST:PORT [--topic T]... [--json]'],
    summary: ['brokers, topics, partitions and leaders'],
    connects: true,
    options: { bootstrap: { type: 'string', short: 'b' }, topic: { type: 'string', short: 't', multiple: true }, json: { type: 'boolean' }, ...SECURITY_FLAGS },
    run: async (values) => {
      const { metadataCommand } = await import('./broker-commands.js');
      return metadataCommand({ bootstrap: required(values.bootstrap, '--bootstrap'), topics: values.topic, json: values.json ?? false, ...securityFromFlags(values) });
    },
  }),
  produce: command({
    synopsis: [
      '--bootstrap HOST:PORT --topic T [--key-separator SEP] [--header k=v]...',
      '[--partition N] [--compression none|gzip|snappy|lz4|zstd] [--acks all|-1|1|0] [--linger-ms MS] [--max-block-ms MS]',
    ],
    summary: [
      'one record per line of stdin (like kcat -P): the bytes between newline bytes, as they are',
      '(not read as text: any bytes go; a \\r before the newline is kept, as kcat keeps it);',
      'an empty line is a record with an empty value;',
      'with --key-separator, a line without it has no key (null); a line that can never be sent',
      '(too big) fails alone; exit code 1 if any record failed; with --acks 0 the broker confirms',
      'nothing, and the summary counts records sent, not delivered; --max-block-ms bounds the wait for',
      'a topic or partition metadata does not show (default 60000); on SIGINT or SIGTERM it stops',
      'reading, delivers what it read (up to 5 s), prints the summary and exits 130 or 143',
    ],
    connects: true,
    options: {
      bootstrap: { type: 'string', short: 'b' },
      topic: { type: 'string', short: 't' },
      'key-separator': { type: 'string', short: 'K' },
      header: { type: 'string', short: 'H', multiple: true },
      partition: { type: 'string', short: 'p' },
      compression: { type: 'string', short: 'z' },
      acks: { type: 'string' },
      'linger-ms': { type: 'string' },
      'max-block-ms': { type: 'string' },
      ...SECURITY_FLAGS,
    },
    run: async (values) => {
      const { produceCommand } = await import('./produce-command.js');
      return produceCommand({
        bootstrap: required(values.bootstrap, '--bootstrap'),
        topic: required(values.topic, '--topic'),
        keySeparator: values['key-separator'],
        header: values.header,
        partition: values.partition,
        compression: values.compression,
        acks: values.acks,
        lingerMs: values['linger-ms'],
        maxBlockMs: values['max-block-ms'],
        ...securityFromFlags(values),
      });
    },
  }),
  conformance: command({
    synopsis: ['--bootstrap HOST:PORT [--prefix P] [--keep] [--admin] [--only CATEGORY]...', '[--json] [--junit FILE] [--markdown [NAME=]FILE] [--record RELEASE [--expected FILE]]'],
    summary: [
      'checks that a broker takes what a producer sends and answers as Apache Kafka does;',
      'creates its topics under a prefix and deletes them after (unless --keep);',
      'categories: api-versions metadata create-topics produce limits idempotence transactions throttling;',
      '--admin lets it set (and remove) a produce quota for its own client id, for the throttling checks;',
      '--record RELEASE: this broker is Apache Kafka RELEASE; its answers go into --expected FILE (JSON,',
      'for --expected later), or without it into src/conformance/expected-answers.ts, from the source',
      'checkout only (npx tsx src/bin.ts conformance --record RELEASE ...);',
      'exit code 1 on any failed check; on SIGINT or SIGTERM it cuts off the check that runs (interrupted,',
      'not failed), deletes its topics, prints the summary of what ran and exits 130 or 143',
    ],
    connects: true,
    options: {
      bootstrap: { type: 'string', short: 'b' },
      prefix: { type: 'string' },
      keep: { type: 'boolean' },
      admin: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      junit: { type: 'string' },
      markdown: { type: 'string' },
      record: { type: 'string' },
      expected: { type: 'string' },
      ...SECURITY_FLAGS,
    },
    run: async (values) => {
      const { conformanceCommand } = await import('../conformance/command.js');
      return conformanceCommand({
        bootstrap: required(values.bootstrap, '--bootstrap'),
        prefix: values.prefix,
        keep: values.keep ?? false,
        admin: values.admin ?? false,
        only: values.only,
        json: values.json ?? false,
        junit: values.junit,
        markdown: values.markdown,
        record: values.record,
        expected: values.expected,
        ...securityFromFlags(values),
      });
    },
  }),
  proxy: command({
    synopsis: ['--upstream HOST:PORT [--listen 127.0.0.1:19092] [--verbose] [--json]', '[--api NAME]... [--topic T]... [--errors-only] [--record FILE] [--no-upstream-check]'],
    summary: [
      'a TCP proxy for any Kafka client, showing each request and answer decoded;',
      'rewrites broker addresses in answers so every connection goes through it',
      '(one loopback port per broker); --record FILE for decode --replay FILE;',
      '--verbose shows every field, --json a line per exchange (with --verbose, every field);',
      'before it listens it tries the upstream once (connect, TLS, SASL, a request) and exits 1',
      'saying what failed; --no-upstream-check skips that, for a proxy started before its broker',
    ],
    connects: true,
    options: {
      upstream: { type: 'string', short: 'u' },
      listen: { type: 'string', short: 'l' },
      verbose: { type: 'boolean', short: 'V' },
      json: { type: 'boolean' },
      api: { type: 'string', multiple: true },
      topic: { type: 'string', short: 't', multiple: true },
      'errors-only': { type: 'boolean' },
      record: { type: 'string' },
      'no-upstream-check': { type: 'boolean' },
      ...SECURITY_FLAGS,
    },
    run: async (values) => {
      const { proxyCommand } = await import('./proxy-command.js');
      return proxyCommand({
        upstream: required(values.upstream, '--upstream'),
        listen: values.listen,
        verbose: values.verbose ?? false,
        json: values.json ?? false,
        api: values.api,
        topic: values.topic,
        errorsOnly: values['errors-only'] ?? false,
        record: values.record,
        upstreamCheck: !(values['no-upstream-check'] ?? false),
        ...securityFromFlags(values),
      });
    },
  }),
  decode: command({
    synopsis: ['[--hex H | --base64 B | --file F | stdin] [--as batch|request|response]', '[--api NAME|KEY] [--version N] [--json]', '--replay FILE [--verbose] [--json] [--api NAME]'],
    summary: ['every field of a record batch, request or response,', 'with its byte offset, length, wire type and value;', '--replay: a proxy --record file, shown as the proxy showed it'],
    connects: false,
    options: {
      hex: { type: 'string' },
      base64: { type: 'string' },
      file: { type: 'string', short: 'f' },
      as: { type: 'string' },
      api: { type: 'string' },
      version: { type: 'string', short: 'v' },
      json: { type: 'boolean' },
      replay: { type: 'string' },
      verbose: { type: 'boolean', short: 'V' },
    },
    run: async (values) => {
      const { decodeCommand } = await import('./decode-command.js');
      const { help: _, ...opts } = values;
      return decodeCommand({ ...opts, json: values.json ?? false });
    },
  }),
};

/** Column at which the global usage starts each command's summary. */
const SUMMARY_COLUMN = 44;

/** The usage of every command, for `kafka-wire --help`. */
export function globalUsage(): string {
  const lines = ['usage: kafka-wire <command> [options]   (kafka-wire --version: which release)', '', 'commands:'];
  for (const [name, cmd] of Object.entries(COMMANDS)) {
    const indent = ' '.repeat(2 + name.length + 1);
    const synopsis = cmd.synopsis.map((group, i) => (i === 0 ? `  ${name} ${group}` : `${indent}${group}`));
    const summary = cmd.summary.map((line) => `${' '.repeat(SUMMARY_COLUMN)}${line}`);
    const last = synopsis[synopsis.length - 1]!;
    if (synopsis.length === 1 && last.length < SUMMARY_COLUMN) synopsis[0] = last.padEnd(SUMMARY_COLUMN) + cmd.summary[0]!;
    else synopsis.push(summary[0]!);
    lines.push(...synopsis, ...summary.slice(1));
  }
  lines.push('', "run 'kafka-wire <command> --help' for one command's options", '', SECURITY_USAGE);
  return lines.join('\n');
}

/** One command's usage, for `kafka-wire <command> --help`. */
export function commandUsage(name: string): string {
  const cmd = COMMANDS[name];
  if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const head = `usage: kafka-wire ${name} `;
  const lines = cmd.synopsis.map((group, i) => (i === 0 ? head : ' '.repeat(head.length)) + group);
  lines.push('', ...cmd.summary);
  const shorts = Object.entries(cmd.options)
    .filter(([long, o]) => o.short !== undefined && long !== 'help')
    .map(([long, o]) => `-${o.short} --${long}`);
  if (shorts.length > 0) lines.push('', `short flags: ${shorts.join(', ')}`);
  if (cmd.connects) lines.push('', SECURITY_USAGE);
  else lines.push('');
  return lines.join('\n');
}

/**
 * Runs a command line (without `node` and the script). Returns the exit code: 0, 1 when
 * the command failed, 2 for a usage error, whose message goes to stderr. Other errors are
 * thrown, for the caller to report.
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(globalUsage());
    return 2;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`kafka-wire ${VERSION}\n`);
    return 0;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(globalUsage());
      return 0;
    }
    if (!Object.hasOwn(COMMANDS, topic)) return usageError(`unknown command ${JSON.stringify(topic)}`);
    process.stdout.write(commandUsage(topic));
    return 0;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`kafka-wire: unknown command ${JSON.stringify(name)}\n${globalUsage()}`);
    return 2;
  }
  const cmd = COMMANDS[name]!;
  try {
    const { values } = parseArgs({ args: negativeValues(rest, cmd.options), options: cmd.options });
    // Before the command checks its required flags, which --help does not need.
    if (values['help'] === true) {
      process.stdout.write(commandUsage(name));
      return 0;
    }
    return await cmd.run(values);
  } catch (err) {
    if (isUsageError(err)) return usageError(err.message, name);
    throw err;
  }
}

/**
 * What the command line prints for an error a command threw: the message alone for what
 * a user can cause (kafka-wire's own errors; a file that is not there, a port in use:
 * Node's system errors), the stack for anything else, which would be a bug of ours.
 */
export function failureText(err: unknown): string {
  if (err instanceof KafkaWireError) return inCliWords(err.message);
  if (isSystemError(err)) return err.message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * `--acks -1` as `--acks=-1`: parseArgs takes a value starting with a dash for a flag and
 * refuses it as ambiguous, but no flag is a dash and digits, so such a value is never one.
 */
function negativeValues(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '--') return [...out, ...args.slice(i)];
    const long = arg.startsWith('--') ? arg.slice(2) : Object.entries(options).find(([, o]) => arg === `-${o.short}`)?.[0];
    if (long !== undefined && options[long]?.type === 'string' && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`--${long}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs throws TypeErrors with an ERR_PARSE_ARGS_* code for bad flags. */
function isUsageError(err: unknown): err is Error {
  return err instanceof UsageError || (err instanceof TypeError && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS'));
}

function usageError(message: string, name?: string): number {
  const hint = name === undefined ? "run 'kafka-wire --help'" : `run 'kafka-wire ${name} --help'`;
  process.stderr.write(`kafka-wire: ${message}\n${hint} for usage\n`);
  return 2;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}
