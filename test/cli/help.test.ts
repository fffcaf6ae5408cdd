/** `kafka-wire --help`, `help` and `<command> --help`: usage on stdout, exit 0; bad flags exit 2. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/index.js';

const COMMANDS = ['api-versions', 'metadata', 'produce', 'conformance', 'decode', 'proxy'];

let stdout = '';
let stderr = '';

beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('kafka-wire help', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints every command and exits 0', async (flag) => {
    expect(await main([flag])).toBe(0);
    expect(stdout).toMatch(/^usage: kafka-wire <command>/);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stderr).toBe('');
  });

  describe.each(COMMANDS)('%s', (command) => {
    it.each([['--help'], ['-h']])(`${command} %s prints its usage and exits 0`, async (flag) => {
      expect(await main([command, flag])).toBe(0);
      expect(stdout).toMatch(new RegExp(`^usage: kafka-wire ${command} `, 'm'));
      expect(stderr).toBe('');
    });

    it(`help ${command} prints the same usage`, async () => {
      await main([command, '--help']);
      const direct = stdout;
      stdout = '';
      expect(await main(['help', command])).toBe(0);
      expect(stdout).toBe(direct);
    });

    it('an unknown option is a usage error: exit 2, message on stderr', async () => {
      expect(await main([command, '--no-such-flag'])).toBe(2);
      expect(stderr).toMatch(/--no-such-flag/);
      expect(stdout).toBe('');
    });
  });

  it('lists every flag the command accepts', async () => {
    await main(['produce', '--help']);
    for (const flag of ['--bootstrap', '--topic', '--key-separator', '--header', '--partition', '--compression', '--acks', '--linger-ms', '--tls', '--sasl-mechanism']) {
      expect(stdout).toContain(flag);
    }
  });

  it('a missing required flag is a usage error', async () => {
    expect(await main(['metadata'])).toBe(2);
    expect(stderr).toMatch(/--bootstrap is required/);
  });

  it('an unknown command is a usage error', async () => {
    expect(await main(['no-such-command'])).toBe(2);
    expect(await main(['help', 'no-such-command'])).toBe(2);
    expect(stdout).toBe('');
  });
});
