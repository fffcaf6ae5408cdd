/** `kafka-wire --help`, `help` and `<command> --help`: usage on out.stdout, exit 0; bad flags exit 2. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { failureText, main } from '../../src/cli/index.js';
import { ConfigError } from '../../src/errors.js';
import { captureCliOutput } from '../helpers/cli-output.js';

const COMMANDS = ['api-versions', 'metadata', 'produce', 'conformance', 'decode', 'proxy'];

const out = captureCliOutput();

describe('kafka-wire help', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints every command and exits 0', async (flag) => {
    expect(await main([flag])).toBe(0);
    expect(out.stdout).toMatch(/^usage: kafka-wire <command>/);
    for (const command of COMMANDS) expect(out.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(out.stderr).toBe('');
  });

  describe.each(COMMANDS)('%s', (command) => {
    it.each([['--help'], ['-h']])(`${command} %s prints its usage and exits 0`, async (flag) => {
      expect(await main([command, flag])).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`^usage: kafka-wire ${command} `, 'm'));
      expect(out.stderr).toBe('');
    });

    it(`help ${command} prints the same usage`, async () => {
      await main([command, '--help']);
      const direct = out.stdout;
      out.stdout = '';
      expect(await main(['help', command])).toBe(0);
      expect(out.stdout).toBe(direct);
    });

    it('an unknown option is a usage error: exit 2, message on out.stderr', async () => {
      expect(await main([command, '--no-such-flag'])).toBe(2);
      expect(out.stderr).toMatch(/--no-such-flag/);
      expect(out.stdout).toBe('');
    });
  });

  it('lists every flag the command accepts', async () => {
    await main(['produce', '--help']);
    for (const flag of ['--bootstrap', '--topic', '--key-separator', '--header', '--partition', '--compression', '--acks', '--linger-ms', '--tls', '--sasl-mechanism']) {
      expect(out.stdout).toContain(flag);
    }
  });

  it('says that a --tls-... flag alone means TLS', async () => {
    await main(['produce', '--help']);
    expect(out.stdout).toContain('(any --tls-... flag alone means TLS too: --tls-ca FILE is enough)');
  });

  it('a missing required flag is a usage error', async () => {
    expect(await main(['metadata'])).toBe(2);
    expect(out.stderr).toMatch(/--bootstrap is required/);
  });

  it.each([
    [['produce', '-b', '127.0.0.1:1', '-t', ''], /--topic "" is empty/],
    [['produce', '-b', '127.0.0.1:1', '-t', 't', '-K', ''], /--key-separator cannot be empty/],
    [['conformance', '-b', '127.0.0.1:1', '--prefix', 'bad prefix!'], /--prefix "bad prefix!" may hold only/],
  ])('%o is refused before it connects: exit 2', async (argv, message) => {
    expect(await main(argv)).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it.each([['--acks', '-1'], ['--acks=-1'], ['--acks', 'all'], ['--acks', '0'], ['--acks', '1'], ['-p', '-1', '--acks', '1']])('produce %s parses (a value may start with a dash)', async (...flags) => {
    expect(await main(['produce', ...flags, '--help'])).toBe(0);
    expect(out.stderr).toBe('');
  });

  it('produce --acks -2 is a usage error naming the values --acks takes', async () => {
    expect(await main(['produce', '-b', '127.0.0.1:1', '-t', 't', '--acks', '-2'])).toBe(2);
    expect(out.stderr).toMatch(/--acks is all, -1, 1 or 0/);
  });

  it('produce --help lists none among the compressions', async () => {
    await main(['produce', '--help']);
    expect(out.stdout).toContain('--compression none|gzip|snappy|lz4|zstd');
  });

  it.each([['--version'], ['version']])('%s prints the package version and exits 0', async (flag) => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await main([flag])).toBe(0);
    expect(out.stdout).toBe(`kafka-wire ${version}\n`);
  });

  it('an unknown command is a usage error', async () => {
    expect(await main(['no-such-command'])).toBe(2);
    expect(await main(['help', 'no-such-command'])).toBe(2);
    expect(out.stdout).toBe('');
  });
});

describe('what the command line prints for a failure', () => {
  it("is the message alone for kafka-wire's errors and Node's system errors (a missing file, a port in use), the stack for anything else", async () => {
    expect(failureText(new ConfigError('lingerMs must be a number'))).toBe('lingerMs must be a number');
    const missing = await import('node:fs/promises').then((fs) => fs.readFile('/no/such/file')).catch((e: unknown) => e);
    expect(failureText(missing)).toBe("ENOENT: no such file or directory, open '/no/such/file'");
    const bug = new TypeError('x is undefined');
    expect(failureText(bug)).toBe(bug.stack);
  });
});
