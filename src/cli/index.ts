/**
 * `kafka-wire <command>`: small tools over the library, for people debugging Kafka.
 */
import { parseArgs } from 'node:util';
import { apiVersionsCommand, metadataCommand } from './broker-commands.js';
import { decodeCommand } from './decode-command.js';
import { produceCommand } from './produce-command.js';
import { SECURITY_FLAGS, SECURITY_USAGE, securityFromFlags } from './security-flags.js';
import { UsageError } from './usage-error.js';

export { UsageError };

const USAGE = `usage: kafka-wire <command> [options]

commands:
  api-versions --bootstrap HOST:PORT        what a broker supports, and the version kafka-wire would use
  metadata --bootstrap HOST:PORT [--topic T]...  brokers, topics, partitions and leaders
  produce --bootstrap HOST:PORT --topic T [--key-separator SEP] [--header k=v]...
          [--partition N] [--compression gzip|snappy|lz4|zstd] [--acks all|1|0]
                                            one record per line of stdin (like kcat -P)
  decode [--hex H | --base64 B | --file F | stdin] [--as batch|request|response]
         [--api produce] [--version N] [--json]
                                            every field of a record batch, request or response,
                                            with its byte offset, length, wire type and value

${SECURITY_USAGE}`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'api-versions': {
      const { values } = parseArgs({ args: rest, options: { bootstrap: { type: 'string', short: 'b' }, json: { type: 'boolean' }, ...SECURITY_FLAGS } });
      return apiVersionsCommand({ bootstrap: required(values.bootstrap, '--bootstrap'), json: values.json ?? false, ...securityFromFlags(values) });
    }
    case 'metadata': {
      const { values } = parseArgs({
        args: rest,
        options: { bootstrap: { type: 'string', short: 'b' }, topic: { type: 'string', short: 't', multiple: true }, json: { type: 'boolean' }, ...SECURITY_FLAGS },
      });
      return metadataCommand({ bootstrap: required(values.bootstrap, '--bootstrap'), topics: values.topic, json: values.json ?? false, ...securityFromFlags(values) });
    }
    case 'produce': {
      const { values } = parseArgs({
        args: rest,
        options: {
          bootstrap: { type: 'string', short: 'b' },
          topic: { type: 'string', short: 't' },
          'key-separator': { type: 'string', short: 'K' },
          header: { type: 'string', short: 'H', multiple: true },
          partition: { type: 'string', short: 'p' },
          compression: { type: 'string', short: 'z' },
          acks: { type: 'string' },
          'linger-ms': { type: 'string' },
          ...SECURITY_FLAGS,
        },
      });
      return produceCommand({
        bootstrap: required(values.bootstrap, '--bootstrap'),
        topic: required(values.topic, '--topic'),
        keySeparator: values['key-separator'],
        header: values.header,
        partition: values.partition,
        compression: values.compression,
        acks: values.acks,
        lingerMs: values['linger-ms'],
        ...securityFromFlags(values),
      });
    }
    case 'decode': {
      const { values } = parseArgs({
        args: rest,
        options: {
          hex: { type: 'string' },
          base64: { type: 'string' },
          file: { type: 'string', short: 'f' },
          as: { type: 'string' },
          api: { type: 'string' },
          version: { type: 'string', short: 'v' },
          json: { type: 'boolean' },
        },
      });
      return decodeCommand({ ...values, json: values.json ?? false });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`kafka-wire: unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  return value;
}

