import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, UnsupportedVersionError } from '../../src/errors.js';
import { decodeBody, encodeBody } from '../../src/protocol/api.js';
import { ApiVersions, API_BY_KEY, CreateTopics, Metadata } from '../../src/protocol/apis/index.js';
import { correlationIdOf, decodeResponse, encodeRequest } from '../../src/protocol/frame.js';
import { Reader } from '../../src/protocol/reader.js';
import { inVersions, parseVersions, type FieldSpec, type FieldType } from '../../src/protocol/schema.js';
import { Writer } from '../../src/protocol/writer.js';
import { primitiveArb } from './generated-values.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Values for every field a version has, straight from the definitions. */
function structArbitrary(fields: readonly FieldSpec[], version: number, flexible: boolean, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    const present = inVersions(parseVersions(f.versions), version);
    const tagged = f.options.tag !== undefined;
    if (!present || (tagged && !flexible)) continue;
    let arb = typeArbitrary(f.type, version, flexible, depth);
    if (f.options.nullable && inVersions(parseVersions(f.options.nullable), version)) arb = fc.option(arb, { nil: null });
    model[f.name] = arb;
  }
  return fc.record(model);
}

function typeArbitrary(type: FieldType, version: number, flexible: boolean, depth: number): fc.Arbitrary<unknown> {
  if (typeof type === 'string') return primitiveArb(type, 'wide');
  if ('struct' in type) return structArbitrary(type.struct, version, flexible, depth + 1);
  const el = type.array;
  const element = typeof el === 'string' ? primitiveArb(el, 'wide') : structArbitrary(el, version, flexible, depth + 1);
  return fc.array(element, { maxLength: depth > 1 ? 2 : 4 });
}

const apis = [...API_BY_KEY.values()];

describe('every API version round-trips, and its predicted size is what it writes', () => {
  for (const api of apis) {
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      for (const side of ['request', 'response'] as const) {
        it(`${api.name} ${side} v${v}`, () => {
          const fields = api[side];
          const codec = side === 'request' ? api.requestCodec(v) : api.responseCodec(v);
          fc.assert(
            fc.property(structArbitrary(fields, v, api.isFlexible(v)), (value) => {
              const size = codec.size(value as never);
              const w = new Writer(Buffer.alloc(size));
              codec.write(w, value as never);
              expect(w.offset).toBe(size);
              const r = new Reader(w.buf);
              const back = codec.read(r) as Record<string, unknown>;
              expect(r.remaining).toBe(0);
              expect(back).toMatchObject(value);
            }),
            { numRuns: 30 },
          );
        });
      }
    }
  }
});

describe('known bytes', () => {
  it('Metadata v12 request for all topics', () => {
    // topics: null compact array (00), allow_auto_topic_creation true (01),
    // include_topic_authorized_operations false (00), no tagged fields (00).
    expect(encodeBody(Metadata, 12, { topics: null }).toString('hex')).toBe('00010000');
  });

  it('Metadata v1 request for two topics (classic encoding)', () => {
    expect(encodeBody(Metadata, 1, { topics: [{ name: 'a' }, { name: 'bc' }] }).toString('hex')).toBe(
      '00000002' + '000161' + '00026263',
    );
  });

  it('ApiVersions v3 request frame: header v2 keeps an int16 client id', () => {
    const frame = encodeRequest(ApiVersions, 3, 7, 'cli', { clientSoftwareName: 'kw', clientSoftwareVersion: '1' });
    expect(frame.toString('hex')).toBe(
      '00000014' + // size 20
        '0012' + '0003' + '00000007' + '0003636c69' + '00' + // key 18, v3, corr 7, "cli", no tags
        '03' + '6b77' + '02' + '31' + '00', // compact "kw", compact "1", no tags
    );
  });

  it('ApiVersions v0 request frame: header v1, empty body', () => {
    expect(encodeRequest(ApiVersions, 0, 1, null, {}).toString('hex')).toBe('0000000a' + '0012' + '0000' + '00000001' + 'ffff');
  });

  it('ApiVersions v3 response with a tagged field for finalized features', () => {
    const body = hex(
      '0000' + // error_code
        '02' + '0012' + '0000' + '0004' + '00' + // api_keys: [ApiVersions 0-4]
        '00000000' + // throttle_time_ms
        '02' + // two tagged fields
        '01' + '08' + '0000000000000005' + // tag 1: finalized_features_epoch = 5
        '02' + '1a' + '02' + '147472616e73616374696f6e2e76657273696f6e' + '0002' + '0000' + '00', // tag 2
    );
    const frame = Buffer.concat([hex('00000009'), body]);
    const res = decodeResponse(ApiVersions, 3, frame);
    expect(correlationIdOf(frame)).toBe(9);
    expect(res.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
    expect(res.finalizedFeaturesEpoch).toBe(5n);
    expect(res.finalizedFeatures).toEqual([{ name: 'transaction.version', maxVersionLevel: 2, minVersionLevel: 0 }]);
    expect(res.supportedFeatures).toEqual([]);
  });

  it('an ApiVersions UNSUPPORTED_VERSION answer is read as v0, whatever version was asked (KIP-511)', () => {
    const frame = hex('00000001' + '0023' + '00000001' + '0012' + '0000' + '0002');
    const res = decodeResponse(ApiVersions, 4, frame);
    expect(res.errorCode).toBe(35);
    expect(res.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 2 }]);
  });

  it('unknown tagged fields are skipped', () => {
    const body = hex('0000' + '01' + '00000000' + '01' + '05' + '03' + 'aabbcc');
    const res = decodeBody(ApiVersions, 3, body);
    expect(res.apiKeys).toEqual([]);
  });

  it('fields absent from a version decode as their defaults', () => {
    const res = decodeBody(Metadata, 0, hex('00000000' + '00000000'));
    expect(res).toMatchObject({ throttleTimeMs: 0, clusterId: null, controllerId: -1, errorCode: 0, brokers: [], topics: [] });
  });
});

describe('bad input', () => {
  it('a version the API does not define: UnsupportedVersionError naming the API and its versions', () => {
    expect(() => encodeRequest(Metadata, 99, 1, 'c', { topics: null } as never)).toThrow(UnsupportedVersionError);
    expect(() => encodeRequest(Metadata, 99, 1, 'c', { topics: null } as never)).toThrow(/^Metadata v99 is outside the versions defined for it \(\d+-\d+\)$/);
  });

  it('a non-ignorable field in a version without it is refused at encode time', () => {
    expect(() => encodeBody(CreateTopics, 0, { validateOnly: true })).toThrow(UnsupportedVersionError);
    expect(encodeBody(CreateTopics, 1, { validateOnly: true }).at(-1)).toBe(1);
  });

  it('truncated responses are ProtocolErrors at every cut', () => {
    const codec = Metadata.responseCodec(12);
    const response = {
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: 9092, rack: null }],
      clusterId: 'c',
      topics: [
        {
          name: 'topic',
          topicId: 'Wb2tCz3TRnS0IJ6Ix9JcbQ',
          partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
        },
      ],
    };
    const w = new Writer(codec.size(response as never));
    codec.write(w, response as never);
    const body = w.finish();
    const ok = decodeBody(Metadata, 12, body);
    expect(ok.topics[0]?.name).toBe('topic');
    for (let cut = 0; cut < body.length; cut++) {
      expect(() => decodeBody(Metadata, 12, body.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtocolError);
    }
  });

  it('a response with bytes left over is refused', () => {
    const frame = hex('00000001' + '0000' + '00000000' + '00000000' + 'ff');
    expect(() => decodeResponse(ApiVersions, 1, frame)).toThrow(/1 unread bytes/);
  });

  it('a response that cannot be read names its API and version, and a size prefix left on', () => {
    // ApiVersions v1: correlation id, error code, an array of 1 range cut short.
    const frame = hex('00000001' + '0000' + '00000001' + '0012');
    expect(() => decodeResponse(ApiVersions, 1, frame)).toThrow(/^ApiVersions v1 response: /);
    const prefixed = Buffer.concat([hex('0000000c'), frame]);
    expect(() => decodeResponse(ApiVersions, 1, prefixed)).toThrow(/^ApiVersions v1 response: .*seem to start with the frame's size prefix/);
  });

  it('tagged fields out of order or lying about their size are refused', () => {
    expect(() => decodeBody(ApiVersions, 3, hex('0000' + '01' + '00000000' + '02' + '030101' + '010100'))).toThrow(
      /out of order/,
    );
    expect(() => decodeBody(ApiVersions, 3, hex('0000' + '01' + '00000000' + '01' + '05' + '7f' + '00'))).toThrow(ProtocolError);
    expect(() => decodeBody(ApiVersions, 3, hex('0000' + '01' + '00000000' + 'ffffffff0f'))).toThrow(ProtocolError);
  });

  it('fuzzed bodies give a ProtocolError or a value, never anything else', () => {
    for (const api of apis) {
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
            try {
              decodeBody(api, v, bytes);
            } catch (err) {
              expect(err).toBeInstanceOf(ProtocolError);
            }
          }),
          { numRuns: 200 },
        );
      }
    }
  });
});
