/**
 * An API as kafka-wire speaks it: key, the versions we implement, the first flexible
 * version, the version from which the client must honour `throttle_time_ms` itself
 * (KIP-219), and the request and response bodies as field definitions.
 */
import { UnsupportedVersionError } from '../errors.js';
import { Reader } from './reader.js';
import { structCodec, type Codec } from './codec.js';
import { parseVersions, type FieldSpec, type Input, type Output } from './schema.js';
import { Writer } from './writer.js';

export interface ApiDefinition<Req extends readonly FieldSpec[] = readonly FieldSpec[], Res extends readonly FieldSpec[] = readonly FieldSpec[]> {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly firstFlexible: number;
  /** From this version on the broker answers at once and the client must wait out the throttle. */
  readonly clientThrottlesFrom: number | undefined;
  readonly request: Req;
  readonly response: Res;
  isFlexible(version: number): boolean;
  requestCodec(version: number): Codec<Input<Req>>;
  responseCodec(version: number): Codec<Output<Res>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyApi = ApiDefinition<any, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestOf<A> = A extends ApiDefinition<infer Req, any> ? Input<Req> : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResponseOf<A> = A extends ApiDefinition<any, infer Res> ? Output<Res> : never;

export function defineApi<const Req extends readonly FieldSpec[], const Res extends readonly FieldSpec[]>(spec: {
  key: number;
  name: string;
  versions: string;
  flexible: string;
  clientThrottlesFrom?: number;
  request: Req;
  response: Res;
  /**
   * Hand-written codecs for an API on the hot path, each given the schema's generic codec
   * of the version; they must agree with it byte for byte (and are tested to).
   */
  codecs?: {
    request?: <T>(version: number, generic: Codec<T>) => Codec<T>;
    response?: <T>(version: number, generic: Codec<T>) => Codec<T>;
  };
}): ApiDefinition<Req, Res> {
  const versions = parseVersions(spec.versions);
  // 'none': no flexible version at all (parseVersions gives an empty range for it).
  const firstFlexible = spec.flexible === 'none' ? Number.POSITIVE_INFINITY : parseVersions(spec.flexible).min;
  const requestCodecs = new Map<number, Codec<Input<Req>>>();
  const responseCodecs = new Map<number, Codec<Output<Res>>>();
  const isFlexible = (v: number): boolean => v >= firstFlexible;
  const compiled = <T>(cache: Map<number, Codec<T>>, fields: readonly FieldSpec[], v: number, byHand?: (version: number, generic: Codec<T>) => Codec<T>): Codec<T> => {
    let codec = cache.get(v);
    if (!codec) {
      if (v < versions.min || v > versions.max) throw new UnsupportedVersionError(`${spec.name} v${v} is outside the versions defined for it (${spec.versions})`);
      codec = structCodec(fields, v, isFlexible(v)) as Codec<T>;
      if (byHand) codec = byHand(v, codec);
      cache.set(v, codec);
    }
    return codec;
  };
  return {
    key: spec.key,
    name: spec.name,
    minVersion: versions.min,
    maxVersion: versions.max,
    firstFlexible,
    clientThrottlesFrom: spec.clientThrottlesFrom,
    request: spec.request,
    response: spec.response,
    isFlexible,
    requestCodec: (v) => compiled<Input<Req>>(requestCodecs, spec.request, v, spec.codecs?.request),
    responseCodec: (v) => compiled<Output<Res>>(responseCodecs, spec.response, v, spec.codecs?.response),
  };
}

/** Encodes a request body alone (no header, no size); for tests and the decode tool. */
export function encodeBody<A extends AnyApi>(api: A, version: number, body: RequestOf<A>): Buffer {
  const codec = api.requestCodec(version);
  const w = new Writer(codec.size(body as never));
  codec.write(w, body as never);
  return w.finish();
}

/** Decodes a response body alone (no header); the whole input must be consumed. */
export function decodeBody<A extends AnyApi>(api: A, version: number, bytes: Uint8Array): ResponseOf<A> {
  const r = new Reader(bytes);
  return api.responseCodec(version).read(r) as ResponseOf<A>;
}
