/**
 * `kafka-wire <command>`: small tools over the library, for people debugging Kafka.
 */
import { parseArgs } from 'node:util';
import { KafkaWireError } from '../errors.js';
import { apiVersionsCommand, metadataCommand } from './broker-commands.js';

const USAGE = `usage: kafka-wire <command> [options]

commands:
  api-versions --bootstrap HOST:PORT        what a broker supports, and the version kafka-wire would use
  metadata --bootstrap HOST:PORT [--topic T]...  brokers, topics, partitions and leaders
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'api-versions': {
      const { values } = parseArgs({ args: rest, options: { bootstrap: { type: 'string', short: 'b' }, json: { type: 'boolean' } } });
      return apiVersionsCommand({ bootstrap: required(values.bootstrap, '--bootstrap'), json: values.json ?? false });
    }
    case 'metadata': {
      const { values } = parseArgs({
        args: rest,
        options: { bootstrap: { type: 'string', short: 'b' }, topic: { type: 'string', short: 't', multiple: true }, json: { type: 'boolean' } },
      });
      return metadataCommand({ bootstrap: required(values.bootstrap, '--bootstrap'), topics: values.topic, json: values.json ?? false });
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

/** Wrong command-line use: exit code 2, message only. */
export class UsageError extends Error {}
