/**
 * Produce's hand-written codecs (produce-codec.ts) against the schema's generic codec of
 * the same definition, at every version: the same bytes for any request, the same value
 * for any response, and for damaged responses the same value or the same error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Produce } from '../../src/protocol/apis/produce.js';
import { structCodec, type Codec } from '../../src/protocol/codec.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { encodeWith, valueArb } from './generated-values.js';

const versions: number[] = [];
for (let v = Produce.minVersion; v <= Produce.maxVersion; v++) versions.push(v);

const genericOf = (side: 'request' | 'response', version: number): Codec<never> =>
  structCodec(Produce[side], version, Produce.isFlexible(version)) as Codec<never>;

/** What a read gives: the value, or the error's class and message. */
function outcome(codec: Codec<unknown>, bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  try {
    return { value: codec.read(r), offset: r.offset };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

/** A tagged-field section with these fields, as raw bytes (tags ascending). */
function taggedSection(fields: ReadonlyArray<readonly [number, Uint8Array]>): Buffer {
  const w = new Writer(64);
  w.uvarint(fields.length);
  for (const [tag, body] of fields) {
    w.uvarint(tag);
    w.uvarint(body.length);
    w.raw(body);
  }
  return w.finish();
}

describe.each(versions)('Produce v%i', (version) => {
  const flexible = Produce.isFlexible(version);

  it('writes a request byte for byte as the schema does, whatever the body leaves out or nulls', () => {
    const hand = Produce.requestCodec(version) as Codec<never>;
    const generic = genericOf('request', version);
    /** The bytes a codec writes, or the error it throws. */
    const written = (codec: Codec<never>, value: Record<string, unknown>): unknown => {
      try {
        return encodeWith(codec, value).toString('hex');
      } catch (err) {
        return { error: (err as Error).constructor.name, message: (err as Error).message };
      }
    };
    const topicsOf = (v: Record<string, unknown>): Array<Record<string, unknown>> => (v.topicData as Array<Record<string, unknown>>) ?? [];
    const body = valueArb(Produce.request, version).chain((full) =>
      // Any field may be left out and take its default, at every depth; null is not a default.
      fc.constantFrom(0, 1, 2, 3, 4, 5).map((change) => {
        const copy = structuredClone(full) as Record<string, unknown>;
        if (change === 1) delete copy.transactionalId;
        if (change === 2) {
          for (const t of topicsOf(copy)) {
            delete t.name;
            delete t.topicId;
            for (const p of (t.partitionData as Array<Record<string, unknown>>) ?? []) delete p.records;
          }
        }
        // Not what the types allow, but the schema writes a null array even where not nullable.
        if (change === 3) copy.topicData = null;
        if (change === 4) for (const t of topicsOf(copy)) t.partitionData = null;
        if (change === 5) for (const t of topicsOf(copy)) t[version >= 13 ? 'topicId' : 'name'] = null;
        return copy;
      }),
    );
    fc.assert(
      fc.property(body, (value) => {
        expect(written(hand, value)).toEqual(written(generic, value));
      }),
      { numRuns: 300, seed: 4200 + version },
    );
  });

  it('reads any response to the value the schema reads, defaults included', () => {
    const hand = Produce.responseCodec(version) as Codec<unknown>;
    const generic = genericOf('response', version);
    fc.assert(
      fc.property(valueArb(Produce.response, version), (value) => {
        const bytes = encodeWith(generic, value);
        const got = outcome(hand, bytes);
        expect(got).toEqual(outcome(generic, bytes));
        expect((got as { offset: number }).offset).toBe(bytes.length);
        // Even the order of keys: a JSON dump of either is the same.
        const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
        expect(json(got)).toBe(json(outcome(generic, bytes)));
      }),
      { numRuns: 200, seed: 4300 + version },
    );
  });

  it('reads damaged responses as the schema does: the same value, or the same error', () => {
    const hand = Produce.responseCodec(version) as Codec<unknown>;
    const generic = genericOf('response', version);
    const damaged = valueArb(Produce.response, version).chain((value) => {
      const bytes = encodeWith(generic, value);
      return fc.oneof(
        fc.nat({ max: Math.max(0, bytes.length - 1) }).map((cut) => bytes.subarray(0, cut)),
        fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
          const copy = Buffer.from(bytes);
          copy[at] = byte;
          return copy;
        }),
      );
    });
    fc.assert(
      fc.property(damaged, (bytes) => {
        expect(outcome(hand, bytes)).toEqual(outcome(generic, bytes));
      }),
      { numRuns: 500, seed: 4400 + version },
    );
  });

  it.runIf(flexible)('skips tagged fields it does not know and reads the ones it does, as the schema does', () => {
    const hand = Produce.responseCodec(version) as Codec<unknown>;
    const generic = genericOf('response', version);
    const leader = new Writer(16);
    leader.int32(7);
    leader.int32(42);
    leader.uvarint(0);
    const w = new Writer(256);
    w.uvarint(2); // one topic
    if (version >= 13) w.uuid('AQIDBAUGBwgJCgsMDQ4PEA');
    else w.compactString('events');
    w.uvarint(2); // one partition
    w.int32(3);
    w.int16(6); // NOT_LEADER_OR_FOLLOWER
    w.int64(-1n);
    w.int64(-1n);
    w.int64(0n);
    w.uvarint(1); // no record errors
    w.compactNullableString('not the leader');
    w.raw(taggedSection([
      [0, leader.finish()],
      [5, Buffer.from([1, 2, 3])],
    ]));
    w.raw(taggedSection([[9, Buffer.from([0])]])); // topic
    w.int32(0);
    const endpoint = new Writer(64);
    endpoint.uvarint(2);
    endpoint.int32(7);
    endpoint.compactString('127.0.0.1');
    endpoint.int32(9092);
    endpoint.compactNullableString(null);
    endpoint.uvarint(0);
    w.raw(taggedSection([
      [0, endpoint.finish()],
      [3, Buffer.alloc(0)],
    ]));
    const bytes = w.finish();
    const got = outcome(hand, bytes) as { value: { nodeEndpoints: unknown[]; responses: Array<{ partitionResponses: Array<{ currentLeader: unknown }> }> } };
    expect(got).toEqual(outcome(generic, bytes));
    expect(got.value.responses[0]!.partitionResponses[0]!.currentLeader).toEqual(version >= 10 ? { leaderId: 7, leaderEpoch: 42 } : { leaderId: -1, leaderEpoch: -1 });
    expect(got.value.nodeEndpoints).toEqual(version >= 10 ? [{ nodeId: 7, host: '127.0.0.1', port: 9092, rack: null }] : []);
  });

  it.runIf(version >= 10)('does not read a tagged field past its size, as the schema does not', () => {
    const hand = Produce.responseCodec(version) as Codec<unknown>;
    const generic = genericOf('response', version);
    // currentLeader's 8 bytes without its own tagged-field section: a 0 follows, but outside the field.
    const leader = new Writer(8);
    leader.int32(7);
    leader.int32(42);
    const w = new Writer(128);
    w.uvarint(2);
    if (version >= 13) w.uuid('AQIDBAUGBwgJCgsMDQ4PEA');
    else w.compactString('events');
    w.uvarint(2);
    w.int32(3);
    w.int16(0);
    w.int64(0n);
    w.int64(-1n);
    w.int64(0n);
    w.uvarint(1);
    w.compactNullableString(null);
    w.raw(taggedSection([[0, leader.finish()]]));
    w.uvarint(0);
    w.int32(0);
    w.uvarint(0);
    const bytes = w.finish();
    const got = outcome(hand, bytes) as { error?: string };
    expect(got).toEqual(outcome(generic, bytes));
    expect(got.error).toBe('ProtocolError');
  });

  it('hands a traced read (the decode tool) to the schema, which records every field', () => {
    const generic = genericOf('response', version);
    const bytes = encodeWith(generic, { responses: [{ name: 't', topicId: 'AQIDBAUGBwgJCgsMDQ4PEA', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n }] }] });
    const handTrace: unknown[] = [];
    const genericTrace: unknown[] = [];
    Produce.responseCodec(version).read(new Reader(bytes), handTrace as never);
    generic.read(new Reader(bytes), genericTrace as never);
    expect(handTrace).toEqual(genericTrace);
    expect(handTrace.length).toBeGreaterThan(0);
  });
});
