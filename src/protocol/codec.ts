/**
 * Turns a list of field definitions at one version into a codec: exact size, write, read.
 * Flexible versions switch strings, bytes and arrays to their compact forms and add the
 * tagged-field section at the end of every struct, as KIP-482 specifies.
 */
import { ProtocolError, UnsupportedVersionError } from '../errors.js';
import { Reader } from './reader.js';
import { inVersions, parseVersions, type FieldSpec, type FieldType, type PrimitiveType } from './schema.js';
import {
  sizeOfBytes,
  sizeOfCompactBytes,
  sizeOfCompactNullableBytes,
  sizeOfCompactNullableString,
  sizeOfCompactString,
  sizeOfNullableBytes,
  sizeOfNullableString,
  sizeOfString,
  sizeOfUvarint,
} from './sizes.js';
import { Writer } from './writer.js';

export interface Codec<T = unknown> {
  size(value: T): number;
  write(w: Writer, value: T): void;
  /** Reads a value; with `trace`, also records where each part of it lay (for `decode`). */
  read(r: Reader, trace?: TraceNode[]): T;
  /** The fewest bytes one value can take; bounds array counts before allocation. */
  readonly minSize: number;
  /** The spec's name for the wire type, e.g. `int32`, `compact_nullable_string`, `[]struct`. */
  readonly typeName: string;
}

/** Where one field lay in the bytes: what the `decode` tool prints. */
export interface TraceNode {
  readonly field: string;
  readonly offset: number;
  readonly length: number;
  readonly type: string;
  readonly value?: unknown;
  readonly children?: TraceNode[];
  /**
   * The tag of a tagged field. A tag the definition does not know is traced with type
   * `unknown_tagged_field`, its raw bytes as value, so a reader of the trace can tell
   * whether everything was understood (see `unknownTaggedFields`).
   */
  readonly tag?: number;
}

/** The type of the trace node of a tagged field that the definition does not know. */
export const UNKNOWN_TAGGED_FIELD = 'unknown_tagged_field';

function traced(trace: TraceNode[] | undefined, field: string, offset: number, r: Reader, type: string, value: unknown, children?: TraceNode[]): void {
  if (!trace) return;
  trace.push(children ? { field, offset, length: r.offset - offset, type, children } : { field, offset, length: r.offset - offset, type, value });
}

type AnyValue = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const fixed = (typeName: string, minSize: number, write: (w: Writer, v: AnyValue) => void, read: (r: Reader) => unknown): Codec => ({
  size: () => minSize,
  write,
  read,
  minSize,
  typeName,
});

const int8 = fixed('int8', 1, (w, v) => w.int8(v), (r) => r.int8());
const int16 = fixed('int16', 2, (w, v) => w.int16(v), (r) => r.int16());
const uint16 = fixed('uint16', 2, (w, v) => w.uint16(v), (r) => r.uint16());
const int32 = fixed('int32', 4, (w, v) => w.int32(v), (r) => r.int32());
const uint32 = fixed('uint32', 4, (w, v) => w.uint32(v), (r) => r.uint32());
const int64 = fixed('int64', 8, (w, v) => w.int64(BigInt(v)), (r) => r.int64());
const float64 = fixed('float64', 8, (w, v) => w.float64(v), (r) => r.float64());
const bool = fixed('bool', 1, (w, v) => w.bool(v), (r) => r.bool());
const uuid = fixed('uuid', 16, (w, v) => w.uuid(v), (r) => r.uuid());

type Variant = 'classic' | 'classicNullable' | 'compact' | 'compactNullable';
type SizeFn = (v: AnyValue) => number;

/**
 * The four encodings of a length-prefixed type: int16/int32 length (STRING, BYTES), the
 * same with -1 for null, and the compact ones with an unsigned varint length+1 (0 for
 * null) that flexible versions use. The Writer and Reader name their methods after them.
 */
function lengthPrefixed(name: 'string' | 'bytes', sizes: Record<Variant, SizeFn>, classicMinSize: number): Record<Variant, Codec<AnyValue>> {
  const cap = name === 'string' ? 'String' : 'Bytes';
  const method: Record<Variant, [string, string]> = {
    classic: [name, name],
    classicNullable: [`nullable${cap}`, `nullable_${name}`],
    compact: [`compact${cap}`, `compact_${name}`],
    compactNullable: [`compactNullable${cap}`, `compact_nullable_${name}`],
  };
  const family = {} as Record<Variant, Codec<AnyValue>>;
  for (const variant of Object.keys(method) as Variant[]) {
    const [fn, typeName] = method[variant];
    const write = (Writer.prototype as unknown as Record<string, (this: Writer, v: AnyValue) => void>)[fn]!;
    const read = (Reader.prototype as unknown as Record<string, (this: Reader) => unknown>)[fn]!;
    family[variant] = {
      typeName,
      size: sizes[variant],
      write: (w, v) => write.call(w, v),
      read: (r) => read.call(r),
      minSize: variant.startsWith('compact') ? 1 : classicMinSize,
    };
  }
  return family;
}

const strings = lengthPrefixed(
  'string',
  { classic: sizeOfString, classicNullable: sizeOfNullableString, compact: sizeOfCompactString, compactNullable: sizeOfCompactNullableString },
  2,
);
const bytes = lengthPrefixed(
  'bytes',
  { classic: sizeOfBytes, classicNullable: sizeOfNullableBytes, compact: sizeOfCompactBytes, compactNullable: sizeOfCompactNullableBytes },
  4,
);

function variant(family: Record<Variant, Codec<AnyValue>>, flexible: boolean, nullable: boolean): Codec {
  if (flexible) return nullable ? family.compactNullable : family.compact;
  return nullable ? family.classicNullable : family.classic;
}

function primitiveCodec(type: PrimitiveType, flexible: boolean, nullable: boolean): Codec {
  switch (type) {
    case 'int8':
      return int8;
    case 'int16':
      return int16;
    case 'uint16':
      return uint16;
    case 'int32':
      return int32;
    case 'uint32':
      return uint32;
    case 'int64':
      return int64;
    case 'float64':
      return float64;
    case 'bool':
      return bool;
    case 'uuid':
      return uuid;
    case 'string':
      return variant(strings, flexible, nullable);
    case 'bytes':
      return variant(bytes, flexible, nullable);
    case 'records': {
      const b = variant(bytes, flexible, nullable);
      return { ...b, typeName: flexible ? 'compact_records' : 'records' };
    }
  }
}

function arrayCodec(element: Codec, flexible: boolean, nullable: boolean): Codec<unknown[] | null> {
  const countSize = (n: number): number => (flexible ? sizeOfUvarint(n + 1) : 4);
  return {
    minSize: flexible ? 1 : 4,
    typeName: `${flexible ? 'compact_' : ''}${nullable ? 'nullable_' : ''}[]${element.typeName}`,
    size(items) {
      if (items === null) return countSize(-1);
      let n = countSize(items.length);
      for (const item of items) n += element.size(item);
      return n;
    },
    write(w, items) {
      if (items === null) {
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      if (flexible) w.uvarint(items.length + 1);
      else w.int32(items.length);
      for (const item of items) element.write(w, item);
    },
    read(r, trace) {
      const at = r.offset;
      const n = r.arrayLength(flexible, element.minSize);
      traced(trace, 'length', at, r, flexible ? 'uvarint (N+1)' : 'int32', n);
      if (n === -1) {
        if (!nullable) throw new ProtocolError(`null array at offset ${at} where the field is not nullable`, { offset: at });
        return null;
      }
      const items = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        const start = r.offset;
        const kids = trace && element.typeName === 'struct' ? [] : undefined;
        items[i] = element.read(r, kids);
        traced(trace, `[${i}]`, start, r, element.typeName, items[i], kids);
      }
      return items;
    },
  };
}

function defaultFor(spec: FieldSpec): unknown {
  const d = spec.options.default;
  const type = spec.type;
  if (typeof type === 'object' && 'struct' in type) return d === null ? null : Object.fromEntries(type.struct.map((f) => [f.name, defaultFor(f)]));
  if (typeof type === 'object') return d === null ? null : [];
  if (d !== undefined) return type === 'int64' ? BigInt(d as number | bigint) : d;
  switch (type) {
    case 'int64':
      return 0n;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    case 'bytes':
    case 'records':
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

function isDefault(value: unknown, dflt: unknown): boolean {
  if (value === dflt) return true;
  if (isPlainStruct(value) && isPlainStruct(dflt)) {
    return Object.entries(dflt).every(([k, d]) => value[k] === undefined || isDefault(value[k], d));
  }
  if (Array.isArray(value)) return Array.isArray(dflt) && value.length === 0 && dflt.length === 0;
  if (value instanceof Uint8Array) return dflt instanceof Uint8Array && value.length === 0 && dflt.length === 0;
  return false;
}

function isComposite(codec: Codec): boolean {
  return codec.typeName.endsWith('struct') || codec.typeName.includes('[]');
}

function isPlainStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

interface CompiledField {
  readonly name: string;
  readonly codec: Codec;
  readonly dflt: unknown;
}

interface TaggedField extends CompiledField {
  readonly tag: number;
}

interface AbsentField {
  readonly name: string;
  readonly dflt: unknown;
  readonly ignorable: boolean;
  readonly versions: string;
}

function typeCodec(type: FieldType, version: number, flexible: boolean, nullable: boolean): Codec {
  if (typeof type === 'string') return primitiveCodec(type, flexible, nullable);
  if ('struct' in type) {
    const codec = structCodec(type.struct, version, flexible) as Codec;
    return nullable ? nullableStruct(codec) : codec;
  }
  const element = type.array;
  const elementCodec = typeof element === 'string' ? primitiveCodec(element, flexible, false) : structCodec(element, version, flexible);
  return arrayCodec(elementCodec, flexible, nullable) as Codec;
}

/**
 * A struct field that may be null (e.g. ConsumerGroupHeartbeat's Assignment): an int8
 * marker, -1 for null and 1 before the struct, as Kafka's generated Java code writes it.
 */
function nullableStruct(inner: Codec): Codec<unknown> {
  return {
    minSize: 1,
    typeName: 'nullable_struct',
    size: (v) => (v === null ? 1 : 1 + inner.size(v)),
    write(w, v) {
      if (v === null) {
        w.int8(-1);
        return;
      }
      w.int8(1);
      inner.write(w, v);
    },
    read(r, trace) {
      const at = r.offset;
      const marker = r.int8();
      traced(trace, 'null_marker', at, r, 'int8', marker);
      return marker < 0 ? null : inner.read(r, trace);
    },
  };
}

/** A codec for a struct (a message body or an array element) at one version. */
export function structCodec(fields: readonly FieldSpec[], version: number, flexible: boolean): Codec<Record<string, unknown>> {
  const regular: CompiledField[] = [];
  const tagged: TaggedField[] = [];
  const absent: AbsentField[] = [];

  for (const spec of fields) {
    const o = spec.options;
    const present = inVersions(parseVersions(spec.versions), version);
    const taggedHere = o.tag !== undefined && flexible && inVersions(parseVersions(o.taggedVersions ?? spec.versions), version);
    const dflt = defaultFor(spec);
    if (!present) {
      absent.push({ name: spec.name, dflt, ignorable: o.ignorable ?? o.tag !== undefined, versions: spec.versions });
      continue;
    }
    const nullable = o.nullable !== undefined && inVersions(parseVersions(o.nullable), version);
    const fieldFlexible = flexible && o.flexibleVersions !== 'none';
    const codec = typeCodec(spec.type, version, fieldFlexible, nullable);
    if (taggedHere) tagged.push({ name: spec.name, codec, dflt, tag: o.tag! });
    else if (o.tag === undefined) regular.push({ name: spec.name, codec, dflt });
    else absent.push({ name: spec.name, dflt, ignorable: true, versions: spec.versions });
  }
  tagged.sort((a, b) => a.tag - b.tag);

  const valueOf = (obj: Record<string, unknown>, f: CompiledField): unknown => {
    const v = obj[f.name];
    return v === undefined ? f.dflt : v;
  };
  const taggedToWrite = (obj: Record<string, unknown>): TaggedField[] =>
    tagged.filter((f) => obj[f.name] !== undefined && !isDefault(obj[f.name], f.dflt));

  let minSize = flexible ? 1 : 0;
  for (const f of regular) minSize += f.codec.minSize;

  return {
    minSize,
    typeName: 'struct',
    size(obj) {
      let n = 0;
      for (const f of regular) n += f.codec.size(valueOf(obj, f));
      if (flexible) {
        const present = taggedToWrite(obj);
        n += sizeOfUvarint(present.length);
        for (const f of present) {
          const s = f.codec.size(obj[f.name]);
          n += sizeOfUvarint(f.tag) + sizeOfUvarint(s) + s;
        }
      }
      return n;
    },
    write(w, obj) {
      for (const a of absent) {
        const v = obj[a.name];
        if (!a.ignorable && v !== undefined && !isDefault(v, a.dflt)) {
          throw new UnsupportedVersionError(`field ${a.name} is only in versions ${a.versions}, not in version ${version}`);
        }
      }
      for (const f of regular) f.codec.write(w, valueOf(obj, f));
      if (!flexible) return;
      const present = taggedToWrite(obj);
      w.uvarint(present.length);
      for (const f of present) {
        const v = obj[f.name];
        w.uvarint(f.tag);
        w.uvarint(f.codec.size(v));
        f.codec.write(w, v);
      }
    },
    read(r, trace) {
      const obj: Record<string, unknown> = {};
      for (const f of regular) {
        const start = r.offset;
        const kids = trace && isComposite(f.codec) ? [] : undefined;
        obj[f.name] = f.codec.read(r, kids);
        traced(trace, f.name, start, r, f.codec.typeName, obj[f.name], kids);
      }
      for (const a of absent) obj[a.name] = a.dflt;
      for (const f of tagged) obj[f.name] = f.dflt;
      if (flexible) {
        const start = r.offset;
        const kids = trace ? [] : undefined;
        readTaggedFields(r, tagged, obj, kids);
        traced(trace, '_tagged_fields', start, r, 'tagged_fields', undefined, kids);
      }
      return obj;
    },
  };
}

/** Reads a tagged-field section; tags this version does not know are skipped, as KIP-482 asks. */
function readTaggedFields(r: Reader, known: readonly TaggedField[], obj: Record<string, unknown>, trace?: TraceNode[]): void {
  readTaggedSection(
    r,
    (tag, body, at) => {
      const bodyAt = body.offset;
      const size = body.end - bodyAt;
      const f = known.find((k) => k.tag === tag);
      const kids = trace && f && isComposite(f.codec) ? [] : undefined;
      if (f) obj[f.name] = f.codec.read(body, kids);
      if (trace) {
        const length = r.offset - at;
        if (!f) trace.push({ field: `unknown tag ${tag}`, offset: at, length, type: UNKNOWN_TAGGED_FIELD, tag, value: body.buf.subarray(bodyAt, bodyAt + size) });
        else if (kids) trace.push({ field: `${f.name} (tag ${tag})`, offset: at, length, type: f.codec.typeName, tag, children: kids });
        else trace.push({ field: `${f.name} (tag ${tag})`, offset: at, length, type: f.codec.typeName, tag, value: obj[f.name] });
      }
    },
    trace,
  );
}

/**
 * Walks a tagged-field section (KIP-482): the count, then per field its tag, size and
 * bytes. Checks the count against the bytes left and that tags ascend, and hands each
 * field to `visit` with a reader over exactly its bytes (and where the field began);
 * without `visit` the section is skipped. With `trace`, records the count.
 */
export function readTaggedSection(r: Reader, visit: ((tag: number, body: Reader, at: number) => void) | undefined, trace?: TraceNode[]): void {
  const countAt = r.offset;
  const count = r.uvarint();
  traced(trace, 'count', countAt, r, 'uvarint', count);
  // Each tagged field takes two bytes at least (its tag and its size).
  if (count * 2 > r.remaining) {
    throw new ProtocolError(`${count} tagged fields claimed at offset ${countAt}, ${r.remaining} bytes left`, { offset: countAt });
  }
  let lastTag = -1;
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const tag = r.uvarint();
    if (tag <= lastTag) throw new ProtocolError(`tagged fields out of order at offset ${at}: tag ${tag} after ${lastTag}`, { offset: at });
    lastTag = tag;
    const size = r.uvarint();
    const body = r.sub(size, `tagged field ${tag}`);
    visit?.(tag, body, at);
  }
}

/**
 * Skips a tagged-field section whose contents are not needed (response header v1); with
 * `trace`, records the count and each (unknown) field, as the decode tool shows them.
 */
export function skipTaggedFields(r: Reader, trace?: TraceNode[]): void {
  readTaggedFields(r, [], {}, trace);
}

/** The trace nodes, at any depth, of tagged fields that the definition did not know. */
export function unknownTaggedFields(nodes: readonly TraceNode[]): TraceNode[] {
  const found: TraceNode[] = [];
  const walk = (list: readonly TraceNode[]): void => {
    for (const n of list) {
      if (n.type === UNKNOWN_TAGGED_FIELD) found.push(n);
      if (n.children) walk(n.children);
    }
  };
  walk(nodes);
  return found;
}
