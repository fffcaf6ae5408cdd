/**
 * Random message values for a field definition at one version (fast-check arbitraries),
 * and the projection of a value onto the fields a version has, for the generated-API tests.
 */
import fc from 'fast-check';
import { Reader } from '../../src/protocol/reader.js';
import { inVersions, parseVersions, type FieldSpec, type FieldType, type PrimitiveType } from '../../src/protocol/schema.js';
import { Writer } from '../../src/protocol/writer.js';
import type { Codec } from '../../src/protocol/codec.js';

type Value = Record<string, unknown>;

const present = (f: FieldSpec, version: number): boolean => inVersions(parseVersions(f.versions), version);
const nullableAt = (f: FieldSpec, version: number): boolean => f.options.nullable !== undefined && inVersions(parseVersions(f.options.nullable), version);

/**
 * Values of a primitive type. `small` keeps strings and bytes short (every API and version
 * of the generated definitions); `wide` draws longer strings of any graphemes.
 */
export function primitiveArb(type: PrimitiveType, size: 'small' | 'wide' = 'small'): fc.Arbitrary<unknown> {
  const max = size === 'small' ? 6 : 40;
  switch (type) {
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'float64':
      return fc.double();
    case 'bool':
      return fc.boolean();
    case 'string':
      return size === 'small' ? fc.string({ maxLength: max }) : fc.string({ unit: 'grapheme', maxLength: 20 });
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
  }
}

function typeArb(type: FieldType, version: number): fc.Arbitrary<unknown> {
  if (typeof type === 'string') return primitiveArb(type);
  if ('struct' in type) return valueArb(type.struct, version);
  const element = type.array;
  return fc.array(typeof element === 'string' ? primitiveArb(element) : valueArb(element, version), { maxLength: 2 });
}

/** Random values for every field `version` has; fields it does not have are left out. */
export function valueArb(fields: readonly FieldSpec[], version: number): fc.Arbitrary<Value> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    if (!present(f, version)) continue;
    const arb = typeArb(f.type, version);
    shape[f.name] = nullableAt(f, version) ? fc.option(arb, { nil: null, freq: 4 }) : arb;
  }
  return fc.record(shape) as fc.Arbitrary<Value>;
}

/** The value with only the fields `version` has, at every depth. */
export function project(value: unknown, fields: readonly FieldSpec[], version: number): Value {
  const v = value as Value;
  const out: Value = {};
  for (const f of fields) {
    if (!present(f, version)) continue;
    out[f.name] = projectType(v[f.name], f.type, version);
  }
  return out;
}

function projectType(value: unknown, type: FieldType, version: number): unknown {
  if (value === null || value === undefined || typeof type === 'string') return value;
  if ('struct' in type) return project(value, type.struct, version);
  const element = type.array;
  if (typeof element === 'string') return value;
  return (value as unknown[]).map((item) => project(item, element, version));
}

/** Encodes with a codec, checking that its size function agrees with what it writes. */
export function encodeWith(codec: Codec<never>, value: Value): Buffer {
  const size = codec.size(value as never);
  const w = new Writer(size);
  codec.write(w, value as never);
  if (w.offset !== size) throw new Error(`predicted ${size} bytes, wrote ${w.offset}`);
  return w.finish();
}

/** Decodes with a codec; every byte must be read. */
export function decodeWith(codec: Codec<unknown>, bytes: Uint8Array): Value {
  const r = new Reader(bytes);
  const value = codec.read(r) as Value;
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left unread`);
  return value;
}
