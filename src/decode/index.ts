/**
 * `decode`: annotates a record batch, a request or a response byte by byte, for people
 * debugging what a Kafka client put on the wire. Records inside a request or response
 * (Produce, Fetch) are annotated down to each record's varints.
 */
import { ProtocolError } from '../errors.js';
import type { TraceNode } from '../protocol/codec.js';
import { annotateRecordBatches } from './annotate-batch.js';
import { annotateRequest, annotateResponse, startsWithRequestHeader } from './annotate-frame.js';

export type DecodeKind = 'batch' | 'request' | 'response';

export interface DecodeOptions {
  /** What the bytes are; guessed when absent (responses cannot be guessed). */
  as?: DecodeKind;
  /** For responses: the API key (default 0, Produce) and the request's version. */
  apiKey?: number;
  version?: number;
  decompress?: (codecId: number, data: Buffer) => Promise<Buffer>;
}

export interface Decoded {
  kind: DecodeKind;
  /** e.g. `ProduceRequest v11`, `RecordBatch v2`. */
  title: string;
  nodes: TraceNode[];
  /** Bytes that no field accounts for. */
  trailing: number;
}

export async function decode(bytes: Buffer, opts: DecodeOptions = {}): Promise<Decoded> {
  const kind = opts.as ?? guessKind(bytes);
  if (kind === 'batch') return { kind, title: 'RecordBatch v2', nodes: await annotateRecordBatches(bytes, 0, opts.decompress), trailing: 0 };
  const frame =
    kind === 'request'
      ? guessedRequest(bytes, opts.as === undefined)
      : annotateResponse(bytes, opts.apiKey ?? 0, required(opts.version, 'decoding a response needs the version of its request'));
  await expandRecords(frame.nodes, bytes, opts.decompress);
  return { kind, title: `${frame.api}${kind === 'request' ? 'Request' : 'Response'} v${frame.version}`, nodes: frame.nodes, trailing: frame.trailing };
}

/**
 * What is wrong in the bytes, as the annotation shows it: the `error:` nodes, CRCs that do
 * not match, bytes after the end. Empty when nothing is; a script's check (`decode` exits 1).
 */
export function problemsOf(decoded: Decoded): string[] {
  const problems: string[] = [];
  const visit = (nodes: readonly TraceNode[]): void => {
    for (const node of nodes) {
      if (node.field.startsWith('error: ')) problems.push(`${node.field.slice('error: '.length)} (byte ${node.offset})`);
      else if (node.field === 'crc' && typeof node.value === 'string' && node.value.includes('INVALID')) problems.push(`crc ${node.value} (byte ${node.offset})`);
      if (node.children) visit(node.children);
    }
  };
  visit(decoded.nodes);
  if (decoded.trailing > 0) problems.push(`${decoded.trailing} byte${decoded.trailing === 1 ? '' : 's'} after the end that no field accounts for`);
  return problems;
}

/**
 * annotateRequest; when the kind was guessed, a failure says the bytes may be a response
 * instead (a response's correlation id can read as an API key and version).
 */
function guessedRequest(bytes: Buffer, guessed: boolean): ReturnType<typeof annotateRequest> {
  try {
    return annotateRequest(bytes);
  } catch (err) {
    if (!guessed || !(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(`${err.message} (read as a request, guessed from its first bytes; if this is a response, say --as response --api NAME --version N)`, { cause: err, offset: err.offset });
  }
}

function required<T>(value: T | undefined, why: string): T {
  if (value === undefined) throw new ProtocolError(why);
  return value;
}

/**
 * A request names its API in the header (after a size prefix, which may not match a
 * frame cut off or followed by more); a batch has magic 2 at byte 16.
 */
function guessKind(bytes: Buffer): DecodeKind {
  if (startsWithRequestHeader(bytes) || startsWithRequestHeader(bytes, 4)) return 'request';
  if (bytes.length >= 17 && bytes[16] === 2) return 'batch';
  if (bytes.length === 0) throw new ProtocolError('there are no bytes to decode');
  throw new ProtocolError('cannot tell what these bytes are: say --as batch, --as request, or --as response --version N');
}

/** Replaces each `records` leaf with the annotation of the batches it holds. */
async function expandRecords(nodes: TraceNode[], input: Buffer, decompress: DecodeOptions['decompress']): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.children) await expandRecords(node.children, input, decompress);
    else if (node.type.endsWith('records') && Buffer.isBuffer(node.value) && node.value.length > 0) {
      const value = node.value;
      const at = value.byteOffset - input.byteOffset;
      nodes[i] = { ...node, children: await annotateRecordBatches(value, at, decompress) };
    }
  }
}
