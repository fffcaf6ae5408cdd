/**
 * The bytes of one request and its answer, for a failure report. Requests are encoded
 * again as the connection encoded them; answers are encoded again from what our codec
 * decoded (the connection keeps no raw frames), so tagged fields we do not know are not
 * shown. Both are then rendered by `decode`, exactly as `kafka-wire decode` prints them.
 */
import { decode } from '../decode/index.js';
import { formatNodes } from '../decode/format.js';
import type { AnyApi, RequestOf, ResponseOf } from '../protocol/api.js';
import { decompress } from '../protocol/compression/index.js';
import { encodeRequest, responseHeaderVersion } from '../protocol/frame.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { Writer } from '../protocol/writer.js';
import type { RenderedExchange } from './types.js';

/** A report shows this many lines of one frame; a Produce request of big records is longer. */
const MAX_LINES = 60;
const API_VERSIONS = 18;

export interface Exchange<A extends AnyApi = AnyApi> {
  api: A;
  version: number;
  request: RequestOf<A>;
  /** undefined while unanswered; null for a request that gets no answer. */
  response?: ResponseOf<A> | null;
}

/** A response frame, size prefix included: what a broker would write for `body`. */
export function encodeResponse<A extends AnyApi>(api: A, version: number, correlationId: number, body: ResponseOf<A>): Buffer {
  const codec = api.responseCodec(version);
  const flexibleHeader = responseHeaderVersion(api, version) === 1;
  const size = 4 + (flexibleHeader ? 1 : 0) + codec.size(body as never);
  const w = new Writer(4 + size);
  w.int32(size);
  w.int32(correlationId);
  if (flexibleHeader) w.uvarint(0);
  codec.write(w, body as never);
  return w.finish();
}

export async function renderExchange(x: Exchange, clientId: string): Promise<RenderedExchange> {
  const frame = encodeRequest(x.api, x.version, 0, clientId, x.request);
  const request = await renderFrame(frame, { as: 'request' });
  const answer = x.response;
  // KIP-511: an ApiVersions version the broker does not know is answered in v0.
  const version = x.api.key === API_VERSIONS && (answer as { errorCode?: number } | undefined)?.errorCode === ErrorCode.UNSUPPORTED_VERSION ? 0 : x.version;
  let response: string | null;
  if (answer === null) response = null;
  else if (answer === undefined) response = '(no answer)';
  else response = await renderFrame(encodeResponse(x.api, version, 0, answer), { as: 'response', apiKey: x.api.key, version });
  return { api: x.api.name, version: x.version, request, response };
}

async function renderFrame(bytes: Buffer, opts: Parameters<typeof decode>[1]): Promise<string> {
  try {
    const decoded = await decode(bytes, { ...opts, decompress });
    const lines = formatNodes(decoded.nodes).trimEnd().split('\n');
    const shown = lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `(${lines.length - MAX_LINES} more lines)`] : lines;
    return [decoded.title, ...shown].join('\n');
  } catch (err) {
    // A version `decode` does not know (the KIP-511 probe): the bytes, 32 a line.
    const hex = bytes.toString('hex').match(/.{1,64}/g) ?? [];
    return [`${bytes.length} bytes (decode: ${(err as Error).message})`, ...hex].join('\n');
  }
}
