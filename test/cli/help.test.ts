/** `kafka-wire --help`, `help` and `<command> --help`: usage on out.stdout, exit 0; bad flags exit 2. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';
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

  it('a missing required flag is a usage error', async () => {
    expect(await main(['metadata'])).toBe(2);
    expect(out.stderr).toMatch(/--bootstrap is required/);
  });

  it('an unknown command is a usage error', async () => {
    expect(await main(['no-such-command'])).toBe(2);
    expect(await main(['help', 'no-such-command'])).toBe(2);
    expect(out.stdout).toBe('');
  });
});
