/**
 * The generated definitions against Kafka 4.3.1's own Java message classes: for every API,
 * every version, request and response, random values encoded by us are read by Kafka's
 * `ApiMessage` of that type without a byte left over, written back by it to the very same
 * bytes, and its JSON converter shows the same values under the same (camelCase) names.
 * And `clientThrottlesFrom`, generated and hand-written, is where Kafka's Java client starts
 * to throttle itself (`shouldClientThrottle`). Produce's hand-written codec (the producer's
 * hot path) is checked against Java directly too: our request bytes are the ones Java
 * writes back, and Java's answer bytes read to the same values.
 * Runs where `java` and the kafka-clients jar are present (.cache/kafka/4.3.1/libs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { askKafkaJava, type JavaCase } from '../../scripts/gen/kafka-messages-java.js';
import type { AnyApi } from '../../src/protocol/api.js';
import { API_BY_KEY } from '../../src/protocol/apis/index.js';
import { kafkaDistDir } from '../../scripts/kafka/paths.js';
import { GENERATED_KAFKA_VERSION } from '../../src/protocol/generated/index.js';
import { ALL_APIS } from '../../src/protocol/registry.js';
import type { FieldSpec, FieldType } from '../../src/protocol/schema.js';
import { isDeepStrictEqual } from 'node:util';
import { Produce } from '../../src/protocol/apis/produce.js';
import { decodeWith, encodeWith, project, valueArb } from './generated-values.js';

const libs = path.join(kafkaDistDir(GENERATED_KAFKA_VERSION), 'libs');
const jar = path.join(libs, `kafka-clients-${GENERATED_KAFKA_VERSION}.jar`);
const javaPresent = ((): boolean => {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const runnable = javaPresent && existsSync(jar);
const SAMPLES = 2;

/** Where our value and Java's JSON differ, as a path; undefined when they agree. */
function difference(ours: unknown, java: unknown, type: FieldType, at: string): string | undefined {
  if (ours === null || java === null) return ours === java ? undefined : `${at}: ours ${String(ours)}, Java ${JSON.stringify(java)}`;
  const differs = (a: unknown, b: unknown): string | undefined => (a === b || (Number.isNaN(a) && Number.isNaN(b)) ? undefined : `${at}: ours ${String(a)}, Java ${String(b)}`);
  if (typeof type === 'string') {
    switch (type) {
      case 'int64':
        return differs(String(ours), java);
      case 'bool':
      case 'string':
      case 'uuid':
        return differs(ours, java);
      case 'records':
        // Kafka's JSON converter shows a read MemoryRecords as an empty string; that the
        // bytes were written back identically already shows the records were read as ours.
        return undefined;
      case 'bytes':
        return differs(Buffer.from(ours as Uint8Array).toString('base64'), java);
      default:
        return Object.is(Number(java), ours) || (Number.isNaN(ours) && Number(java) !== Number(java)) ? undefined : differs(ours, java);
    }
  }
  if ('struct' in type) return structDifference(ours as Record<string, unknown>, java as Record<string, unknown>, type.struct, at);
  const items = ours as unknown[];
  const javaItems = java as unknown[];
  if (!Array.isArray(javaItems) || javaItems.length !== items.length) return `${at}: ${items.length} items, Java ${JSON.stringify(java)}`;
  const element = type.array;
  for (let i = 0; i < items.length; i++) {
    const d = difference(items[i], javaItems[i], typeof element === 'string' ? element : { struct: element }, `${at}[${i}]`);
    if (d) return d;
  }
  return undefined;
}

function structDifference(ours: Record<string, unknown>, java: Record<string, unknown>, fields: readonly FieldSpec[], at: string): string | undefined {
  for (const f of fields) {
    if (!(f.name in ours)) continue; // not in this version
    if (!(f.name in java)) {
      // Kafka's JSON converter leaves out tagged fields that hold their default.
      if (f.options.tag !== undefined) continue;
      return `${at}.${f.name}: missing from Java's JSON (${Object.keys(java).join(', ')})`;
    }
    const d = difference(ours[f.name], java[f.name], f.type, `${at}.${f.name}`);
    if (d) return d;
  }
  const extra = Object.keys(java).filter((k) => !(k in ours));
  return extra.length > 0 ? `${at}: Java has fields we do not: ${extra.join(', ')}` : undefined;
}

describe(`the generated definitions against Kafka ${GENERATED_KAFKA_VERSION}'s Java message classes`, () => {
  const title = 'read our bytes whole, write them back identically, and hold the same values';
  it.skipIf(!runnable)(runnable ? title : `${title} (skipped: needs java and ${jar})`, () => {
    const failures: string[] = [];
    const cases: (JavaCase & { value: Record<string, unknown>; fields: readonly FieldSpec[]; label: string })[] = [];
    for (const api of ALL_APIS) {
      for (let version = api.minVersion; version <= api.maxVersion; version++) {
        for (const side of ['request', 'response'] as const) {
          const fields = api[side] as readonly FieldSpec[];
          const codec = (side === 'request' ? api.requestCodec(version) : api.responseCodec(version)) as never;
          for (const value of fc.sample(valueArb(fields, version), { numRuns: SAMPLES, seed: api.key * 100 + version })) {
            cases.push({ side, key: api.key, version, bytes: encodeWith(codec, value), value: project(value, fields, version), fields, label: `${api.name}${side === 'request' ? 'Request' : 'Response'} v${version}` });
          }
        }
      }
    }
    const withVersions = ALL_APIS.filter((api) => api.minVersion <= api.maxVersion);
    const { results, throttles } = askKafkaJava(cases, withVersions.map((api) => api.key), path.join(libs, '*'));
    // clientThrottlesFrom, generated and hand-written, is where Kafka's client starts to throttle itself.
    const throttleFrom = (key: number): number | undefined => throttles.get(key)![0];
    for (const api of [...withVersions, ...(API_BY_KEY.values() as Iterable<AnyApi>)]) {
      if (api.clientThrottlesFrom !== throttleFrom(api.key)) failures.push(`${api.name}: clientThrottlesFrom ${api.clientThrottlesFrom}, Kafka's client from ${throttleFrom(api.key)}`);
    }
    results.forEach((result, i) => {
      const c = cases[i]!;
      if (!result.ok) failures.push(`${c.label}: Java could not read it: ${result.error}`);
      else if (!result.bytes.equals(Buffer.from(c.bytes))) failures.push(`${c.label}: Java wrote back ${result.bytes.toString('hex')}, we wrote ${Buffer.from(c.bytes).toString('hex')}`);
      else {
        const d = structDifference(c.value, result.json as Record<string, unknown>, c.fields, c.label);
        if (d) failures.push(d);
      }
    });
    // Produce's hand-written codec (produce-codec.ts) against Java directly, not only
    // through the generated definitions: it writes the bytes Java writes back for the
    // request, and reads Java's bytes of the answer to the same values.
    let produceChecked = 0;
    results.forEach((result, i) => {
      const c = cases[i]!;
      if (c.key !== Produce.key || !result.ok || c.version < Produce.minVersion || c.version > Produce.maxVersion) return;
      produceChecked++;
      if (c.side === 'request') {
        const ours = encodeWith(Produce.requestCodec(c.version) as never, c.value);
        if (!ours.equals(result.bytes)) failures.push(`${c.label} (hand-written): we wrote ${ours.toString('hex')}, Java ${result.bytes.toString('hex')}`);
      } else {
        const read = project(decodeWith(Produce.responseCodec(c.version), result.bytes), c.fields, c.version);
        if (!isDeepStrictEqual(read, c.value)) failures.push(`${c.label} (hand-written): read ${JSON.stringify(read, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))} from Java's bytes`);
      }
    });
    expect(produceChecked).toBe(2 * SAMPLES * (Produce.maxVersion - Produce.minVersion + 1));
    expect(failures.slice(0, 40)).toEqual([]);
    expect(cases.length).toBeGreaterThan(1000);
  }, 120_000);
});
