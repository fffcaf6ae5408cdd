/**
 * Byte-by-byte annotation of a request or response frame: every field with its offset,
 * length, wire type and value, in the spec's field order. The `decode` tool prints it.
 */
import { ProtocolError } from '../errors.js';
import type { AnyApi } from '../protocol/api.js';
import { apiName } from '../protocol/api-keys.js';
import { skipTaggedFields, unknownTaggedFields, type TraceNode } from '../protocol/codec.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/frame.js';
import { Reader } from '../protocol/reader.js';
import { apiDefinition, apiDefinitionAt, REGISTRY_KAFKA_VERSION } from '../protocol/registry.js';

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

/**
 * Every API Kafka defines, at every version it defines (src/protocol/registry.ts), and the
 * older versions kafka-wire itself still speaks.
 */
function apiFor(key: number, version: number): AnyApi {
  const api = apiDefinitionAt(key, version);
  if (api) return api;
  const known = apiDefinition(key);
  if (!known) throw new ProtocolError(`API key ${key} (${apiName(key)}) is not one Kafka ${REGISTRY_KAFKA_VERSION} defines`);
  const range = known.minVersion > known.maxVersion ? 'none' : `${known.minVersion}-${known.maxVersion}`;
  throw new ProtocolError(`${known.name} v${version} is outside the versions Kafka ${REGISTRY_KAFKA_VERSION} defines (${range})`);
}

/**
 * Whether every tagged field in the frame (header and body, at any depth) was one its
 * definition knows: the trace holds an `unknown_tagged_field` node for each one it does not.
 */
export function fullyDecoded(frame: AnnotatedFrame): boolean {
  return frame.trailing === 0 && unknownTaggedFields(frame.nodes).length === 0;
}

/** A header's tagged-field section: none is defined in Kafka's headers, so any is unknown. */
function taggedFields(nodes: TraceNode[], r: Reader): void {
  const offset = r.offset;
  const children: TraceNode[] = [];
  skipTaggedFields(r, children);
  nodes.push({ field: '_tagged_fields', offset, length: r.offset - offset, type: 'tagged_fields', children });
}

/**
 * Whether `bytes` start with a request header, as a request without its size prefix does.
 * Used on the bytes past a size prefix too.
 */
export function startsWithRequestHeader(bytes: Uint8Array, at = 0): boolean {
  if (bytes.length < at + 4) return false;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return apiDefinitionAt(view.readInt16BE(at), view.readInt16BE(at + 2)) !== undefined;
}

/**
 * A size prefix that does not match the bytes after it: the frame was cut off, or more
 * follows it. Told from a request without a prefix by what the header would then be.
 */
function mismatchedPrefix(bytes: Uint8Array): { declared: number; present: number } | undefined {
  if (bytes.length < 8 || hasSizePrefix(bytes) || startsWithRequestHeader(bytes) || !startsWithRequestHeader(bytes, 4)) return undefined;
  const declared = Buffer.from(bytes.buffer, bytes.byteOffset, 4).readInt32BE(0);
  return declared >= 8 ? { declared, present: bytes.length - 4 } : undefined;
}

/**
 * A request, with or without its size prefix; the header names the API and version. A
 * prefix saying less than follows is read as the frame and bytes after it; saying more,
 * as a frame cut off.
 */
export function annotateRequest(bytes: Uint8Array): AnnotatedFrame {
  const mismatch = mismatchedPrefix(bytes);
  if (mismatch && mismatch.declared > mismatch.present) {
    throw new ProtocolError(`the request is cut off: its size prefix says ${mismatch.declared} bytes, ${mismatch.present} follow it`, { offset: 0 });
  }
  const r = new Reader(bytes, 0, mismatch ? 4 + mismatch.declared : bytes.length);
  const nodes: TraceNode[] = [];
  if (mismatch || hasSizePrefix(bytes)) leaf(nodes, r, 'message_size', 'int32', () => r.int32());
  const header: TraceNode[] = [];
  const headerStart = r.offset;
  const apiKey = leaf(header, r, 'request_api_key', 'int16', () => r.int16()) as number;
  const version = leaf(header, r, 'request_api_version', 'int16', () => r.int16()) as number;
  leaf(header, r, 'correlation_id', 'int32', () => r.int32());
  leaf(header, r, 'client_id', 'nullable_string', () => r.nullableString());
  const api = apiFor(apiKey, version);
  if (requestHeaderVersion(api, version) === 2) taggedFields(header, r);
  nodes.push({ field: `header (request header v${requestHeaderVersion(api, version)})`, offset: headerStart, length: r.offset - headerStart, type: 'struct', children: header });
  const bodyStart = r.offset;
  const body: TraceNode[] = [];
  api.requestCodec(version).read(r, body);
  nodes.push({ field: `body (${api.name}Request v${version})`, offset: bodyStart, length: r.offset - bodyStart, type: 'struct', children: body });
  return { kind: 'request', api: api.name, apiKey, version, nodes, trailing: bytes.length - r.offset };
}

/** A response, with or without its size prefix; responses do not say their API or version. */
export function annotateResponse(bytes: Uint8Array, apiKey: number, version: number): AnnotatedFrame {
  const api = apiFor(apiKey, version);
  const r = new Reader(bytes);
  const nodes: TraceNode[] = [];
  if (hasSizePrefix(bytes)) leaf(nodes, r, 'message_size', 'int32', () => r.int32());
  const header: TraceNode[] = [];
  const headerStart = r.offset;
  leaf(header, r, 'correlation_id', 'int32', () => r.int32());
  const headerVersion = responseHeaderVersion(api, version);
  if (headerVersion === 1) taggedFields(header, r);
  nodes.push({ field: `header (response header v${headerVersion})`, offset: headerStart, length: r.offset - headerStart, type: 'struct', children: header });
  const bodyStart = r.offset;
  const body: TraceNode[] = [];
  api.responseCodec(version).read(r, body);
  nodes.push({ field: `body (${api.name}Response v${version})`, offset: bodyStart, length: r.offset - bodyStart, type: 'struct', children: body });
  return { kind: 'response', api: api.name, apiKey, version, nodes, trailing: r.remaining };
}
