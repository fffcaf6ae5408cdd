/**
 * Requests and their answers, paired by connection and correlation id, and decoded.
 *
 * The live proxy and `decode --replay` both feed frames in here, so a recording shows
 * exactly as the conversation did. Decoding never throws out of here: a frame that
 * cannot be decoded is an exchange with `error` set on that side, and counted.
 */
import { annotateRequest, annotateResponse, type AnnotatedFrame } from '../decode/annotate-frame.js';
import { apiName } from '../protocol/api-keys.js';
import type { TraceNode } from '../protocol/codec.js';
import { apiDefinition, REGISTRY_KAFKA_VERSION } from '../protocol/registry.js';
import { redactFrame, redactTrace, SASL_AUTHENTICATE } from './redact.js';
import type { AddressChange } from './rewrite.js';

/** What the proxy reads of a request before forwarding it: its header, and Produce's acks. */
export interface RequestHead {
  readonly apiKey: number;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Produce only (undefined elsewhere, or when it could not be read). */
  readonly acks?: number;
}

/**
 * Reads a request header from a frame (size prefix included); undefined when the bytes are
 * too short to hold one. Produce's acks is read too, since acks=0 means no answer.
 */
export function readRequestHead(frame: Buffer): RequestHead | undefined {
  if (frame.length < 14) return undefined;
  const apiKey = frame.readInt16BE(4);
  const version = frame.readInt16BE(6);
  const correlationId = frame.readInt32BE(8);
  const idLength = frame.readInt16BE(12);
  let at = 14 + Math.max(0, idLength);
  if (at > frame.length) return { apiKey, version, correlationId, clientId: null };
  const clientId = idLength < 0 ? null : frame.toString('utf8', 14, at);
  if (apiKey !== 0) return { apiKey, version, correlationId, clientId };
  try {
    const flexible = version >= 9;
    if (flexible) at = skipTagged(frame, at);
    if (version >= 3) {
      // transactional_id: NULLABLE_STRING, or COMPACT_NULLABLE_STRING once flexible
      if (flexible) {
        const n = uvarint(frame, at);
        at = n.next + Math.max(0, n.value - 1);
      } else {
        const n = frame.readInt16BE(at);
        at += 2 + Math.max(0, n);
      }
    }
    return { apiKey, version, correlationId, clientId, acks: frame.readInt16BE(at) };
  } catch {
    return { apiKey, version, correlationId, clientId };
  }
}

function uvarint(b: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (at + i >= b.length) throw new RangeError('short varint');
    const c = b[at + i]!;
    value += (c & 0x7f) * scale;
    if ((c & 0x80) === 0) return { value, next: at + i + 1 };
    scale *= 0x80;
  }
  throw new RangeError('long varint');
}

function skipTagged(b: Buffer, at: number): number {
  const count = uvarint(b, at);
  at = count.next;
  for (let i = 0; i < count.value; i++) {
    at = uvarint(b, at).next;
    const size = uvarint(b, at);
    at = size.next + size.value;
  }
  return at;
}

export interface FrameSide {
  /** The frame as it came from its sender, size prefix included. */
  readonly bytes: Buffer;
  /** Milliseconds since the epoch, when it arrived at the proxy. */
  readonly at: number;
  /** The annotation, when the frame decoded. */
  readonly decoded?: AnnotatedFrame;
  /** Why it did not decode. */
  readonly error?: string;
  /** Tagged fields the definitions do not know (their bytes are in the trace). */
  readonly unknownFields: number;
  /**
   * Bytes after the last field that no field accounts for. Brokers read the fields and
   * ignore what follows (librdkafka's Metadata requests carry such bytes); shown, counted.
   */
  readonly trailing: number;
  /**
   * Decoded as far as Kafka defines it, and why not further: an ApiVersions request at a
   * version newer than the definitions, whose body no broker reads either (KIP-511).
   */
  readonly note?: string;
}

export interface Exchange {
  readonly connection: number;
  /** The upstream broker this connection goes to. */
  readonly broker: string;
  readonly apiKey: number;
  readonly api: string;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Undefined only for an answer whose request was never seen. */
  readonly request?: FrameSide;
  /** Undefined when none was expected (Produce acks=0) or none came (connection closed). */
  readonly response?: FrameSide;
  /** Why there is no response. */
  readonly noResponse?: 'acks=0' | 'connection closed';
  readonly latencyMs?: number;
  /** Addresses the proxy replaced in the answer. */
  readonly rewrites: readonly AddressChange[];
  /** Topic names by topic id, as Metadata answers seen so far gave them (for versions that name topics by id). */
  readonly topicNames?: ReadonlyMap<string, string>;
}

/** Counts for the "decoded everything?" question. */
export interface ProxyStats {
  exchanges: number;
  frames: number;
  /** Frames decoded whole (with `note`: as far as Kafka defines them; counted in `beyondDefinitions` too). */
  decoded: number;
  beyondDefinitions: number;
  undecoded: number;
  unknownFields: number;
  /** Frames with bytes after their last field. */
  withTrailingBytes: number;
  rewrites: number;
}

export function newStats(): ProxyStats {
  return { exchanges: 0, frames: 0, decoded: 0, beyondDefinitions: 0, undecoded: 0, unknownFields: 0, withTrailingBytes: 0, rewrites: 0 };
}

/** Tagged fields the decoder did not know, in a trace. */
export function countUnknownFields(nodes: readonly TraceNode[]): number {
  let n = 0;
  for (const node of nodes) {
    if (node.type === 'unknown_tagged_field' || node.field.startsWith('unknown tag ')) n++;
    if (node.children) n += countUnknownFields(node.children);
  }
  return n;
}

function side(bytes: Buffer, at: number, decode: () => AnnotatedFrame): FrameSide {
  try {
    const whole = decode();
    const decoded = redactTrace(whole);
    if (decoded !== whole) bytes = redactFrame(bytes, whole.kind, whole.apiKey, whole.version);
    return { bytes, at, decoded, unknownFields: countUnknownFields(decoded.nodes), trailing: decoded.trailing };
  } catch (err) {
    if (bytes.length >= 6 && bytes.readInt16BE(4) === SASL_AUTHENTICATE) bytes = redactFrame(bytes, 'request', SASL_AUTHENTICATE, bytes.readInt16BE(6));
    return { bytes, at, error: err instanceof Error ? err.message : String(err), unknownFields: 0, trailing: 0 };
  }
}

const API_VERSIONS = 18;
const UNSUPPORTED_VERSION = 35;

/**
 * An ApiVersions request at a version newer than Kafka's definitions: clients send their
 * newest and the broker answers UNSUPPORTED_VERSION in v0 with its range, reading only the
 * header (KIP-511). The header is annotated; the body stays bytes, as it does for the broker.
 */
function apiVersionsProbe(bytes: Buffer, at: number, head: RequestHead): FrameSide {
  const idLength = bytes.readInt16BE(12);
  const headerEnd = 14 + Math.max(0, idLength);
  const header: TraceNode[] = [
    { field: 'request_api_key', offset: 4, length: 2, type: 'int16', value: head.apiKey },
    { field: 'request_api_version', offset: 6, length: 2, type: 'int16', value: head.version },
    { field: 'correlation_id', offset: 8, length: 4, type: 'int32', value: head.correlationId },
    { field: 'client_id', offset: 12, length: headerEnd - 12, type: 'nullable_string', value: head.clientId },
  ];
  const nodes: TraceNode[] = [
    { field: 'message_size', offset: 0, length: 4, type: 'int32', value: bytes.length - 4 },
    { field: 'header (request header, as far as every version shares it)', offset: 4, length: headerEnd - 4, type: 'struct', children: header },
    { field: `body (ApiVersionsRequest v${head.version}, which Kafka ${REGISTRY_KAFKA_VERSION} does not define)`, offset: headerEnd, length: bytes.length - headerEnd, type: 'bytes', value: bytes.subarray(headerEnd) },
  ];
  const decoded: AnnotatedFrame = { kind: 'request', api: 'ApiVersions', apiKey: head.apiKey, version: head.version, nodes, trailing: 0 };
  const note = `ApiVersions v${head.version} is newer than Kafka ${REGISTRY_KAFKA_VERSION} defines; brokers answer it in v0 with their range (KIP-511), so its body is not read`;
  return { bytes, at, decoded, unknownFields: 0, trailing: 0, note };
}

/** Decodes an answer; an ApiVersions answer to a version the broker does not know is in v0 (KIP-511). */
export function decodeResponseSide(bytes: Buffer, at: number, apiKey: number, version: number, decoded?: AnnotatedFrame): FrameSide {
  if (decoded) return side(bytes, at, () => decoded);
  if (apiKey === API_VERSIONS && version > 0 && bytes.length >= 10 && bytes.readInt16BE(8) === UNSUPPORTED_VERSION) {
    return side(bytes, at, () => annotateResponse(bytes, apiKey, 0));
  }
  const shown = side(bytes, at, () => annotateResponse(bytes, apiKey, version));
  return apiKey === SASL_AUTHENTICATE && shown.decoded === undefined ? { ...shown, bytes: redactFrame(bytes, 'response', apiKey, version) } : shown;
}

interface Pending {
  readonly head: RequestHead;
  readonly request: () => FrameSide;
}

/**
 * Pairs frames into exchanges for one or many connections. `onExchange` is called once per
 * exchange, in the order the answers (or unanswered requests) came.
 */
export class ExchangeTracker {
  readonly stats: ProxyStats = newStats();
  readonly #pending = new Map<number, Map<number, Pending>>();
  readonly #brokers = new Map<number, string>();
  readonly #topicNames = new Map<string, string>();
  readonly #onExchange: (ex: Exchange) => void;

  constructor(onExchange: (ex: Exchange) => void) {
    this.#onExchange = onExchange;
  }

  #count(s: FrameSide | undefined): void {
    if (!s) return;
    this.stats.frames++;
    if (s.decoded && !s.error) this.stats.decoded++;
    else this.stats.undecoded++;
    if (s.note !== undefined) this.stats.beyondDefinitions++;
    if (s.trailing > 0) this.stats.withTrailingBytes++;
    this.stats.unknownFields += s.unknownFields;
  }

  /** A request frame (size prefix included) from the client of `connection`. */
  request(connection: number, broker: string, bytes: Buffer, at: number): void {
    this.#brokers.set(connection, broker);
    const head = readRequestHead(bytes);
    // Decoded when its exchange is shown, not here: this runs on the forwarding path.
    const request = (): FrameSide =>
      head && head.apiKey === API_VERSIONS && head.version > (apiDefinition(API_VERSIONS)?.maxVersion ?? 0) ? apiVersionsProbe(bytes, at, head) : side(bytes, at, () => annotateRequest(bytes));
    if (!head) {
      this.#emit({ connection, broker, apiKey: -1, api: 'unknown', version: -1, correlationId: -1, clientId: null, request: request(), rewrites: [] });
      return;
    }
    if (head.apiKey === 0 && head.acks === 0) {
      this.#emit({ ...this.#identity(connection, broker, head), request: request(), noResponse: 'acks=0', rewrites: [] });
      return;
    }
    let pending = this.#pending.get(connection);
    if (!pending) this.#pending.set(connection, (pending = new Map()));
    pending.set(head.correlationId, { head, request });
  }

  /** Whether an answer with this correlation id is awaited, and for which API and version. */
  expected(connection: number, correlationId: number): RequestHead | undefined {
    return this.#pending.get(connection)?.get(correlationId)?.head;
  }

  /**
   * An answer frame (size prefix included) from the broker of `connection`, as it came;
   * `decoded` when the proxy already annotated it (to rewrite addresses).
   */
  response(connection: number, bytes: Buffer, at: number, rewrites: readonly AddressChange[] = [], decoded?: AnnotatedFrame): void {
    const broker = this.#brokers.get(connection) ?? '?';
    const correlationId = bytes.length >= 8 ? bytes.readInt32BE(4) : -1;
    const pending = this.#pending.get(connection)?.get(correlationId);
    if (!pending) {
      const response: FrameSide = { bytes, at, error: `an answer with correlation id ${correlationId} to no request the proxy saw`, unknownFields: 0, trailing: 0 };
      this.#emit({ connection, broker, apiKey: -1, api: 'unknown', version: -1, correlationId, clientId: null, response, rewrites });
      return;
    }
    this.#pending.get(connection)!.delete(correlationId);
    const { head, request } = pending;
    const response = decodeResponseSide(bytes, at, head.apiKey, head.version, decoded);
    const req = request();
    this.#emit({ ...this.#identity(connection, broker, head), request: req, response, latencyMs: at - req.at, rewrites });
  }

  /** The connection closed: its unanswered requests are shown as such. */
  closed(connection: number): void {
    const pending = this.#pending.get(connection);
    this.#pending.delete(connection);
    const broker = this.#brokers.get(connection) ?? '?';
    this.#brokers.delete(connection);
    for (const { head, request } of pending?.values() ?? []) {
      this.#emit({ ...this.#identity(connection, broker, head), request: request(), noResponse: 'connection closed', rewrites: [] });
    }
  }

  #identity(connection: number, broker: string, head: RequestHead) {
    return { connection, broker, apiKey: head.apiKey, api: apiName(head.apiKey), version: head.version, correlationId: head.correlationId, clientId: head.clientId };
  }

  /** Learns topic ids from a Metadata answer's topics (name and topic_id side by side). */
  #learnTopicIds(ex: Exchange): void {
    const body = ex.response?.decoded?.nodes.find((n) => n.field.startsWith('body'))?.children;
    const topics = body?.find((n) => n.field === 'topics')?.children ?? [];
    for (const t of topics) {
      const name = t.children?.find((n) => n.field === 'name')?.value;
      const id = t.children?.find((n) => n.field === 'topicId')?.value;
      if (typeof name === 'string' && typeof id === 'string' && id !== 'AAAAAAAAAAAAAAAAAAAAAA') this.#topicNames.set(id, name);
    }
  }

  #emit(ex: Exchange): void {
    if (ex.apiKey === 3) this.#learnTopicIds(ex);
    ex = { ...ex, topicNames: this.#topicNames };
    this.stats.exchanges++;
    this.#count(ex.request);
    this.#count(ex.response);
    this.stats.rewrites += ex.rewrites.length;
    this.#onExchange(ex);
  }
}
