/** `kafka-wire decode`: annotated bytes from hex, base64, a file or stdin. */
import { open, readFile } from 'node:fs/promises';
import { decompress } from '../protocol/compression/index.js';
import { decode, problemsOf, type DecodeKind } from '../decode/index.js';
import { formatNodes, toJson } from '../decode/format.js';
import { ProtocolError } from '../errors.js';
import { apiDefinition, apiDefinitionByName } from '../protocol/registry.js';
import { UsageError } from './usage-error.js';

export interface DecodeCommandOptions {
  hex?: string;
  base64?: string;
  file?: string;
  as?: string;
  api?: string;
  version?: string;
  json: boolean;
  /** A `proxy --record` file, shown as the proxy showed it. */
  replay?: string;
  verbose?: boolean;
}

/**
 * Bytes from hex digits (spaces and colons between them allowed). Buffer.from(_, 'hex')
 * stops at the first character that is not hex, or at a lone last digit, and decodes what
 * came before: a typo would show as a short, wrong decoding instead of an error.
 */
function fromHex(text: string, what: string): Buffer {
  // A leading 0x, as hex is often written (in code, in Wireshark's "copy as hex stream" it is not).
  const digits = text.trim().replace(/^0x/i, '').replace(/[\s:]/g, '');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new UsageError(`${what} is not hex: ${JSON.stringify(bad[0])} at digit ${bad.index + 1}`);
  if (digits.length % 2 !== 0) throw new UsageError(`${what} has an odd number of hex digits (${digits.length}): two per byte`);
  return Buffer.from(digits, 'hex');
}

/** Bytes from base64 (standard or URL-safe, padded or not); as fromHex, an error rather than a partial decoding. */
function fromBase64(text: string): Buffer {
  const chars = text.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(chars) || chars.replace(/=+$/, '').length % 4 === 1) {
    throw new UsageError('--base64 is not base64');
  }
  return Buffer.from(chars, 'base64');
}

/** A file a flag names that cannot be read: the user's to fix, so a usage error (exit 2) naming the flag. */
function unreadable(flag: string, file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not allowed to read it' : code === 'EISDIR' ? 'a directory, not a file' : (err as Error).message;
  return new UsageError(`${flag} ${file}: ${why}`);
}

async function readInput(opts: DecodeCommandOptions): Promise<Buffer> {
  const given = (['hex', 'base64', 'file'] as const).filter((k) => opts[k] !== undefined);
  if (given.length > 1) throw new UsageError(`${given.map((k) => `--${k}`).join(' and ')} are alternatives: give one (or none, for stdin)`);
  if (opts.hex !== undefined) return fromHex(opts.hex, '--hex');
  if (opts.base64 !== undefined) return fromBase64(opts.base64);
  if (opts.file !== undefined) {
    try {
      return await readFile(opts.file);
    } catch (err) {
      throw unreadable('--file', opts.file, err);
    }
  }
  // A terminal: say what is awaited rather than wait in silence.
  if (process.stdin.isTTY) process.stderr.write('decode: reading the bytes from stdin (hex or raw; Ctrl-D ends); or give --hex, --base64 or --file\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks);
  // Text that is all hex digits is taken as hex; anything else as raw bytes.
  const asText = text.toString('latin1').trim();
  return /^(?:0x)?[0-9a-fA-F\s:]+$/i.test(asText) && asText.length > 0 ? fromHex(asText, 'the hex on stdin') : text;
}

function apiKeyOf(name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  if (/^\d+$/.test(name)) return Number(name);
  const api = apiDefinitionByName(name);
  if (api) return api.key;
  throw new UsageError(`unknown API ${JSON.stringify(name)}; try Produce, Metadata, any API name Kafka defines, or a number`);
}

export async function decodeCommand(opts: DecodeCommandOptions): Promise<number> {
  if (opts.replay !== undefined) {
    const { printReplay } = await import('../proxy/replay.js');
    const { matcher } = await import('../proxy/format.js');
    try {
      matcher({ apis: opts.api === undefined ? undefined : [opts.api] });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // The replay reads the file as a stream, whose error would be Node's raw one, late.
    let isDirectory: boolean;
    try {
      const handle = await open(opts.replay);
      isDirectory = (await handle.stat()).isDirectory();
      await handle.close();
    } catch (err) {
      throw unreadable('--replay', opts.replay, err);
    }
    // Opening a directory succeeds; only reading it fails.
    if (isDirectory) throw unreadable('--replay', opts.replay, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
    await printReplay(opts.replay, { json: opts.json, verbose: opts.verbose ?? false, apis: opts.api === undefined ? undefined : [opts.api] });
    return 0;
  }
  if (opts.as !== undefined && !['batch', 'request', 'response'].includes(opts.as)) throw new UsageError('--as is batch, request or response');
  if (opts.version !== undefined && !/^\d{1,5}$/.test(opts.version)) throw new UsageError(`--version is a number (the API version), got ${JSON.stringify(opts.version)}`);
  if (opts.as === 'response' && opts.version === undefined) {
    throw new UsageError('--as response needs --version N, the version of its request (a response does not say it), and --api NAME unless it answers a Produce request');
  }
  const apiKey = apiKeyOf(opts.api);
  const version = opts.version === undefined ? undefined : Number(opts.version);
  if (opts.as === 'response' && version !== undefined) {
    const api = apiDefinition(apiKey ?? 0);
    if (api && (version < api.minVersion || version > api.maxVersion)) {
      throw new UsageError(`--version ${version}: ${api.name} has versions ${api.minVersion} to ${api.maxVersion}`);
    }
  }
  const bytes = await readInput(opts);
  let decoded: Awaited<ReturnType<typeof decode>>;
  try {
    decoded = await decode(bytes, { as: opts.as as DecodeKind | undefined, apiKey, version, decompress: (codecId, data) => decompress(codecId, data) });
  } catch (err) {
    // A response read at another version than its request's fails somewhere in the middle.
    if (opts.as === 'response' && err instanceof ProtocolError) {
      throw new ProtocolError(`${err.message} (read as a v${version} response: is that its request's version? the request's header says it)`, { cause: err });
    }
    throw err;
  }
  if (opts.json) {
    process.stdout.write(`${toJson(decoded)}\n`);
  } else {
    process.stdout.write(`${decoded.title}, ${bytes.length} bytes\n`);
    process.stdout.write(formatNodes(decoded.nodes));
    if (decoded.trailing > 0) process.stdout.write(`(${decoded.trailing} byte${decoded.trailing === 1 ? '' : 's'} after the end that no field accounts for)\n`);
  }
  // The annotation shows damage where it is; the exit status lets a script see it too.
  const problems = problemsOf(decoded);
  if (problems.length === 0) return 0;
  process.stderr.write(`decode: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the bytes: ${problems.join('; ')}\n`);
  return 1;
}
