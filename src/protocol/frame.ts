/**
 * Request and response framing: `int32 size`, then a header, then the body.
 *
 * Request header v1: api_key int16, api_version int16, correlation_id int32,
 * client_id NULLABLE_STRING. v2 (flexible APIs) adds a tagged-field section; client_id
 * keeps its int16 length even then, so any broker can read an ApiVersions header.
 * Response header v0: correlation_id int32; v1 (flexible) adds tagged fields, except for
 * ApiVersions, whose response header is always v0 (KIP-511).
 */
import { ProtocolError } from '../errors.js';
import type { AnyApi, ApiDefinition, RequestOf, ResponseOf } from './api.js';
import { skipTaggedFields } from './codec.js';
import { ErrorCode } from './error-codes.js';
import { Reader } from './reader.js';
import { sizeOfNullableString } from './sizes.js';
import { ChunkedWriter, Writer, type SpareBuffers } from './writer.js';

const API_VERSIONS_KEY = 18;

export function requestHeaderVersion(api: AnyApi, version: number): 1 | 2 {
  return api.isFlexible(version) ? 2 : 1;
}

export function responseHeaderVersion(api: AnyApi, version: number): 0 | 1 {
  return api.key !== API_VERSIONS_KEY && api.isFlexible(version) ? 1 : 0;
}

/** A whole request frame, size prefix included, written into one buffer of the exact size. */
export function encodeRequest<A extends AnyApi>(
  api: A,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: RequestOf<A>,
): Buffer {
  const frame = requestFrame(api, version, correlationId, clientId, body);
  const w = new Writer(frame.size);
  frame.writeTo(w);
  checkWritten(api, version, frame.size, w.offset);
  return w.buf;
}

/** A request's bytes as chunks, and the spare buffers they were copied into. */
export interface RequestChunks {
  chunks: Uint8Array[];
  /** From `spare`: give them back once the chunks are written (empty without spare buffers). */
  taken: Buffer[];
}

/**
 * The bytes of encodeRequest as chunks (see ChunkedWriter): byte fields of 32 KiB or more,
 * a Produce request's record batches, are referenced, not copied; the rest is copied into
 * `spare` buffers when given. For a socket's writev.
 */
export function encodeRequestChunks<A extends AnyApi>(
  api: A,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: RequestOf<A>,
  spare?: SpareBuffers,
): RequestChunks {
  const frame = requestFrame(api, version, correlationId, clientId, body);
  const w = new ChunkedWriter(frame.size, spare);
  frame.writeTo(w);
  const chunks = w.chunks();
  let written = 0;
  for (const c of chunks) written += c.length;
  checkWritten(api, version, frame.size, written);
  return { chunks, taken: w.taken() };
}

/** A request frame's exact size, and how to write it: int32 size, header, body. */
function requestFrame<A extends AnyApi>(
  api: A,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: RequestOf<A>,
): { size: number; writeTo(w: Writer): void } {
  const codec = api.requestCodec(version);
  const flexibleHeader = requestHeaderVersion(api, version) === 2;
  const headerSize = 2 + 2 + 4 + sizeOfNullableString(clientId) + (flexibleHeader ? 1 : 0);
  const bodySize = codec.size(body as never);
  return {
    size: 4 + headerSize + bodySize,
    writeTo(w) {
      w.int32(headerSize + bodySize);
      w.int16(api.key);
      w.int16(version);
      w.int32(correlationId);
      w.nullableString(clientId);
      if (flexibleHeader) w.uvarint(0);
      codec.write(w, body as never);
    },
  };
}

/** A size function that disagrees with its writer would corrupt the stream: fail loudly. */
function checkWritten(api: AnyApi, version: number, predicted: number, written: number): void {
  if (written !== predicted) throw new ProtocolError(`${api.name} v${version}: predicted ${predicted} bytes, wrote ${written}`);
}

/** The correlation id of a response frame (the bytes after the size prefix). */
export function correlationIdOf(frame: Uint8Array): number {
  if (frame.length < 4) throw new ProtocolError(`response frame of ${frame.length} bytes has no correlation id`);
  return ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) | 0;
}

function isUnsupportedVersionAnswer(frame: Uint8Array): boolean {
  // error_code is the first body field in every ApiVersions response version.
  return frame.length >= 6 && (((frame[4]! << 8) | frame[5]!) << 16 >> 16) === ErrorCode.UNSUPPORTED_VERSION;
}

/**
 * Decodes a response frame (without its size prefix) for a request of `version`.
 * Bytes left over after the body mean we and the broker disagree on the layout.
 */
export function decodeResponse<A extends AnyApi>(api: A, version: number, frame: Uint8Array): ResponseOf<A> {
  const r = new Reader(frame);
  r.int32(); // correlation id, already matched by the connection
  if (api.key === API_VERSIONS_KEY && version > 0 && isUnsupportedVersionAnswer(frame)) {
    // KIP-511: a broker that does not know our ApiVersions version answers in v0, with
    // UNSUPPORTED_VERSION and its own ApiVersions range, so that we can retry lower.
    version = 0;
  }
  let body: ResponseOf<A>;
  try {
    if (responseHeaderVersion(api, version) === 1) skipTaggedFields(r);
    body = api.responseCodec(version).read(r) as ResponseOf<A>;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    // Which answer could not be read, and the usual slip of a caller decoding by hand.
    const prefixed = frame.length >= 4 && ((frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!) === frame.length - 4;
    const hint = prefixed ? ' (the bytes seem to start with the frame\'s size prefix: pass what follows it)' : '';
    throw new ProtocolError(`${api.name} v${version} response: ${err.message}${hint}`, { api: `${api.name} v${version}`, cause: err, offset: err.offset });
  }
  if (r.remaining !== 0) {
    throw new ProtocolError(`${api.name} v${version} response has ${r.remaining} unread bytes after offset ${r.offset}`, {
      offset: r.offset,
    });
  }
  return body;
}
