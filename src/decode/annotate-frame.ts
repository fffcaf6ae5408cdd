/**
 * Byte-by-byte annotation of a request or response frame: every field with its offset,
 * length, wire type and value, in the spec's field order. The `decode` tool prints it.
 */
import { ProtocolError } from '../errors.js';
import type { AnyApi } from '../protocol/api.js';
import { apiName } from '../protocol/api-keys.js';
import { API_BY_KEY } from '../protocol/apis/index.js';
import { skipTaggedFields, type TraceNode } from '../protocol/codec.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/frame.js';
import { Reader } from '../protocol/reader.js';

export interface AnnotatedFrame {
  readonly kind: 'request' | 'response';
  readonly api: string;
  readonly apiKey: number;
  readonly version: number;
  readonly nodes: TraceNode[];
  /** Bytes after the body that no field accounts for. */
  readonly trailing: number;
}

/** Whether the first four bytes are a size prefix that matches the rest of the input. */
function hasSizePrefix(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const size = Buffer.from(bytes.buffer, bytes.byteOffset, 4).readInt32BE(0);
  return size === bytes.length - 4;
}

function leaf(nodes: TraceNode[], r: Reader, field: string, type: string, read: () => unknown): unknown {
  const offset = r.offset;
  const value = read();
  nodes.push({ field, offset, length: r.offset - offset, type, value });
  return value;
}

function apiFor(key: number): AnyApi {
  const api = API_BY_KEY.get(key);
  if (!api) throw new ProtocolError(`kafka-wire has no definition for API key ${key} (${apiName(key)})`);
  return api;
}

/** A request, with or without its size prefix; the header names the API and version. */
export function annotateRequest(bytes: Uint8Array): AnnotatedFrame {
  const r = new Reader(bytes);
  const nodes: TraceNode[] = [];
  if (hasSizePrefix(bytes)) leaf(nodes, r, 'message_size', 'int32', () => r.int32());
  const header: TraceNode[] = [];
  const headerStart = r.offset;
  const apiKey = leaf(header, r, 'request_api_key', 'int16', () => r.int16()) as number;
  const version = leaf(header, r, 'request_api_version', 'int16', () => r.int16()) as number;
  leaf(header, r, 'correlation_id', 'int32', () => r.int32());
  leaf(header, r, 'client_id', 'nullable_string', () => r.nullableString());
  const api = apiFor(apiKey);
  if (version < api.minVersion || version > api.maxVersion) {
    throw new ProtocolError(`${api.name} v${version} is outside the versions kafka-wire knows (${api.minVersion}-${api.maxVersion})`);
  }
  if (requestHeaderVersion(api, version) === 2) leaf(header, r, '_tagged_fields', 'tagged_fields', () => skipTaggedFields(r));
  nodes.push({ field: `header (request header v${requestHeaderVersion(api, version)})`, offset: headerStart, length: r.offset - headerStart, type: 'struct', children: header });
  const bodyStart = r.offset;
  const body: TraceNode[] = [];
  api.requestCodec(version).read(r, body);
  nodes.push({ field: `body (${api.name}Request v${version})`, offset: bodyStart, length: r.offset - bodyStart, type: 'struct', children: body });
  return { kind: 'request', api: api.name, apiKey, version, nodes, trailing: r.remaining };
}

/** A response, with or without its size prefix; responses do not say their API or version. */
export function annotateResponse(bytes: Uint8Array, apiKey: number, version: number): AnnotatedFrame {
  const api = apiFor(apiKey);
  const r = new Reader(bytes);
  const nodes: TraceNode[] = [];
  if (hasSizePrefix(bytes)) leaf(nodes, r, 'message_size', 'int32', () => r.int32());
  const header: TraceNode[] = [];
  const headerStart = r.offset;
  leaf(header, r, 'correlation_id', 'int32', () => r.int32());
  const headerVersion = responseHeaderVersion(api, version);
  if (headerVersion === 1) leaf(header, r, '_tagged_fields', 'tagged_fields', () => skipTaggedFields(r));
  nodes.push({ field: `header (response header v${headerVersion})`, offset: headerStart, length: r.offset - headerStart, type: 'struct', children: header });
  const bodyStart = r.offset;
  const body: TraceNode[] = [];
  api.responseCodec(version).read(r, body);
  nodes.push({ field: `body (${api.name}Response v${version})`, offset: bodyStart, length: r.offset - bodyStart, type: 'struct', children: body });
  return { kind: 'response', api: api.name, apiKey, version, nodes, trailing: r.remaining };
}
