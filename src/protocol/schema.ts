/**
 * Declarative message definitions, in the shape of Kafka's own message specs
 * (`clients/src/main/resources/common/message/*.json`): each field has the versions it
 * exists in, the versions it may be null in, and, for tagged fields, its tag.
 *
 * An API is described once. `compile()` turns a definition plus a version into a codec
 * (size, write, read) once and caches it, so no version is ever hand-encoded twice.
 * TypeScript types for request and response bodies are inferred from the same definition.
 */

export type PrimitiveType =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type FieldType =
  | PrimitiveType
  | { readonly array: PrimitiveType | readonly FieldSpec[] }
  | { readonly struct: readonly FieldSpec[] };

export interface FieldOptions {
  /** Versions in which the field may be null, e.g. `'1+'`. */
  readonly nullable?: string;
  /** The tag of a tagged field; `taggedVersions` defaults to the field's versions. */
  readonly tag?: number;
  readonly taggedVersions?: string;
  /** Value when the field is absent from a version or not given by the caller. */
  readonly default?: unknown;
  /** A non-default value may be dropped silently in versions without the field. */
  readonly ignorable?: boolean;
  /** `'none'` keeps the pre-flexible encoding in flexible versions (the header's client id). */
  readonly flexibleVersions?: 'none';
  readonly about?: string;
}

export interface FieldSpec<N extends string = string, T extends FieldType = FieldType, O extends FieldOptions = FieldOptions> {
  readonly name: N;
  readonly type: T;
  readonly versions: string;
  readonly options: O;
}

export function field<const N extends string, const T extends FieldType, const O extends FieldOptions = {}>(
  name: N,
  type: T,
  versions: string,
  options?: O,
): FieldSpec<N, T, O> {
  return { name, type, versions, options: (options ?? {}) as O };
}

export function arrayOf<const E extends PrimitiveType | readonly FieldSpec[]>(element: E): { readonly array: E } {
  return { array: element };
}

/** A nested struct that is not an array element (e.g. Produce's tagged CurrentLeader). */
export function struct<const E extends readonly FieldSpec[]>(fields: E): { readonly struct: E } {
  return { struct: fields };
}

// ---- types inferred from definitions ---------------------------------------------------

type PrimitiveValue<T> = T extends 'int64'
  ? bigint
  : T extends 'bool'
    ? boolean
    : T extends 'string' | 'uuid'
      ? string
      : T extends 'bytes' | 'records'
        ? Buffer
        : number;

type Nullability<O> = O extends { nullable: string } ? null : never;

type OutputValue<T> = T extends { array: infer E }
  ? E extends readonly FieldSpec[]
    ? Output<E>[]
    : PrimitiveValue<E>[]
  : T extends { struct: infer E extends readonly FieldSpec[] }
    ? Output<E>
    : PrimitiveValue<T>;

type InputPrimitive<T> = T extends 'bytes' | 'records' ? Uint8Array : PrimitiveValue<T>;

type InputValue<T> = T extends { array: infer E }
  ? E extends readonly FieldSpec[]
    ? Input<E>[]
    : InputPrimitive<E>[]
  : T extends { struct: infer E extends readonly FieldSpec[] }
    ? Input<E>
    : InputPrimitive<T>;

/** A decoded message: every field present (absent-in-version fields hold their default). */
export type Output<Fs extends readonly FieldSpec[]> = {
  [F in Fs[number] as F['name']]: OutputValue<F['type']> | Nullability<F['options']>;
};

/** A message to encode: any field may be left out and takes its default. */
export type Input<Fs extends readonly FieldSpec[]> = {
  [F in Fs[number] as F['name']]?: InputValue<F['type']> | Nullability<F['options']>;
};

// ---- version ranges ---------------------------------------------------------------------

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 1, max: 0 };

/** Parses Kafka's version syntax: `'3+'`, `'0-7'`, `'5'` or `'none'`. */
export function parseVersions(spec: string): VersionRange {
  if (spec === 'none') return NONE;
  const plus = /^(\d+)\+$/.exec(spec);
  if (plus) return { min: Number(plus[1]), max: Number.POSITIVE_INFINITY };
  const range = /^(\d+)-(\d+)$/.exec(spec);
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  if (/^\d+$/.test(spec)) return { min: Number(spec), max: Number(spec) };
  throw new SyntaxError(`bad version range ${JSON.stringify(spec)}`);
}

export function inVersions(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}
