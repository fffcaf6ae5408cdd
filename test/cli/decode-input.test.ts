/** `kafka-wire decode --hex/--base64`: what is not hex or base64 is a usage error (exit 2), not a partial decoding. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/index.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { captureCliOutput } from '../helpers/cli-output.js';
import { produceResponseFrame } from '../helpers/fake-server.js';

const out = captureCliOutput();

const batch = (): Buffer => encodeRecordBatch([{ key: null, value: 'hello', timestamp: 1_700_000_000_000 }]);

describe('decode input', () => {
  it('hex with spaces and colons, and base64, decode the same batch', async () => {
    const bytes = batch();
    const spaced = bytes.toString('hex').replace(/(..)/g, '$1 ').replace(/ (..) /, ':$1 ');
    expect(await main(['decode', '--as', 'batch', '--hex', spaced])).toBe(0);
    const fromHex = out.stdout;
    out.stdout = '';
    expect(await main(['decode', '--as', 'batch', '--base64', bytes.toString('base64')])).toBe(0);
    expect(out.stdout).toBe(fromHex);
    out.stdout = '';
    expect(await main(['decode', '--as', 'batch', '--hex', `0x${bytes.toString('hex')}`])).toBe(0);
    expect(out.stdout).toBe(fromHex);
    expect(fromHex).toContain('hello');
    expect(out.stderr).toBe('');
  });

  it.each([
    ['a character that is not hex', ['--hex', '0000zz00'], /--hex is not hex: "z" at digit 5/],
    ['an odd number of digits', ['--hex', '00000'], /odd number of hex digits \(5\)/],
    ['base64 with other characters', ['--base64', 'AAAA!!'], /--base64 is not base64/],
    ['base64 of an impossible length', ['--base64', 'AAAAA'], /--base64 is not base64/],
  ])('%s: exit 2 and a message', async (_what, args, message) => {
    expect(await main(['decode', '--as', 'batch', ...args])).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).toBe('');
  });
});

describe('decode usage', () => {
  it.each([
    ['a response without --version', ['--as', 'response', '--hex', '00'], /--as response needs --version N, the version of its request/],
    ['a version the API does not have', ['--as', 'response', '--version', '99', '--hex', '00'], /--version 99: Produce has versions \d+ to \d+/],
    ['a version that is not a number', ['--as', 'batch', '--version', 'v11', '--hex', '00'], /--version is a number/],
    ['--hex and --file together', ['--hex', '00', '--file', 'x.bin'], /--hex and --file are alternatives/],
    ['a file that is not there', ['--file', 'no-such-file.bin'], /--file no-such-file\.bin: no such file/],
    ['a recording that is not there', ['--replay', 'no-such-file.jsonl'], /--replay no-such-file\.jsonl: no such file/],
    ['a directory to replay', ['--replay', '.'], /--replay \.: a directory, not a file/],
  ])('%s: exit 2 and a message', async (_what, args, message) => {
    expect(await main(['decode', ...args])).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).toBe('');
  });

  it('a response read at a version other than its request\'s: the error asks whether --version is right', async () => {
    const body = { responses: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n }] }], throttleTimeMs: 0 };
    const hex = produceResponseFrame(13, 7, body).toString('hex');
    expect(await main(['decode', '--as', 'response', '--version', '13', '--hex', hex])).toBe(0);
    out.stdout = '';
    await expect(main(['decode', '--as', 'response', '--version', '11', '--hex', hex])).rejects.toThrow(/read as a v11 response: is that its request's version\?/);
  });
});

describe('decode exit status', () => {
  /** The batch with one byte of its records changed: its CRC no longer matches. */
  const damaged = (): Buffer => {
    const bytes = batch();
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0xff, bytes.length - 3);
    return bytes;
  };

  it('is 1 for a batch whose CRC does not match, with the problem on stderr and the annotation on stdout', async () => {
    expect(await main(['decode', '--as', 'batch', '--hex', damaged().toString('hex')])).toBe(1);
    expect(out.stdout).toContain('INVALID: computed');
    expect(out.stderr).toMatch(/^decode: a problem in the bytes: crc 0x[0-9a-f]{8} \(INVALID: computed 0x[0-9a-f]{8}\) \(byte 17\)\n$/);
  });

  it('is 0 for a whole batch, and for one cut short at the end (as a Fetch may send it)', async () => {
    const bytes = batch();
    expect(await main(['decode', '--as', 'batch', '--json', '--hex', bytes.toString('hex')])).toBe(0);
    expect(await main(['decode', '--as', 'batch', '--hex', bytes.subarray(0, bytes.length - 2).toString('hex')])).toBe(0);
    expect(out.stdout).toContain('partial batch');
    expect(out.stderr).toBe('');
  });
});
