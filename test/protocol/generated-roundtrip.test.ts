/**
 * Every API Kafka 4.3.1 defines, every version, request and response: random values
 * encode and decode to themselves, the size function agrees with the writer, and the
 * decode tool reads the whole frame with no unknown tagged field and no byte left over.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { annotateRequest, annotateResponse, fullyDecoded } from '../../src/decode/annotate-frame.js';
import { defineApi, type AnyApi } from '../../src/protocol/api.js';
import { unknownTaggedFields, type TraceNode } from '../../src/protocol/codec.js';
import { encodeRequest, responseHeaderVersion } from '../../src/protocol/frame.js';
import { CreateTopics } from '../../src/protocol/apis/index.js';
import { ALL_APIS, apiDefinition, apiDefinitionAt, apiDefinitionByName } from '../../src/protocol/registry.js';
import { API_NAMES } from '../../src/protocol/api-keys.js';
import { field } from '../../src/protocol/schema.js';
import { RequestHeader, ResponseHeader } from '../../src/protocol/generated/headers.js';
import { structCodec } from '../../src/protocol/codec.js';
import { decodeResponse } from '../../src/protocol/frame.js';
import { Writer } from '../../src/protocol/writer.js';
import { ProtocolError } from '../../src/errors.js';
import { decodeWith, encodeWith, project, valueArb } from './generated-values.js';

const RUNS = 3;

function versions(api: AnyApi): number[] {
  const out: number[] = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) out.push(v);
  return out;
}

/** A response frame as a broker writes it: size, correlation id, header tags, body. */
function responseFrame(api: AnyApi, version: number, body: Buffer): Buffer {
  const headerTags = responseHeaderVersion(api, version) === 1 ? 1 : 0;
  const w = new Writer(4 + 4 + headerTags + body.length);
  w.int32(4 + headerTags + body.length);
  w.int32(7);
  if (headerTags) w.uvarint(0);
  w.raw(body);
  return w.finish();
}

describe('the registry', () => {
  it('has every API key Kafka 4.3.1 names, each once, in key order', () => {
    expect(ALL_APIS.map((a) => a.key)).toEqual([...API_NAMES.keys()].sort((a, b) => a - b));
    for (const api of ALL_APIS) {
      expect(apiDefinition(api.key)).toBe(api);
      expect(apiDefinitionByName(api.name.toUpperCase())).toBe(api);
      expect(api.name).toBe(API_NAMES.get(api.key));
    }
    expect(apiDefinition(-1)).toBeUndefined();
  });

  it('reads versions Kafka 4.0 retired but kafka-wire still speaks with its own definition', () => {
    expect(apiDefinitionAt(19, 7)).toBe(apiDefinition(19));
    expect(apiDefinitionAt(19, 0)).toBe(CreateTopics);
    expect(apiDefinitionAt(19, 8)).toBeUndefined();
    const frame = encodeRequest(CreateTopics, 0, 1, 'c', { topics: [{ name: 't', numPartitions: 1, replicationFactor: 1 }], timeoutMs: 5 });
    const annotated = annotateRequest(frame);
    expect([annotated.api, annotated.version, fullyDecoded(annotated)]).toEqual(['CreateTopics', 0, true]);
    expect(() => annotateRequest(Buffer.from([0, 19, 0, 99, 0, 0, 0, 1, 0xff, 0xff]))).toThrow('CreateTopics v99 is outside the versions Kafka 4.3.1 defines (2-7)');
    expect(() => annotateResponse(Buffer.from([0, 0, 0, 1]), 999, 0)).toThrow(/API key 999 .* is not one Kafka 4\.3\.1 defines/);
  });
});

const removed = ALL_APIS.filter((api) => api.minVersion > api.maxVersion);

it.each(removed.map((api) => [api.name, api] as const))('%s has no version left, and decode says so', (_name, api) => {
  const frame = Buffer.from([0, api.key, 0, 0, 0, 0, 0, 1, 0xff, 0xff]);
  expect(() => annotateRequest(frame)).toThrow(/outside the versions Kafka 4\.3\.1 defines/);
});

describe.each(ALL_APIS.filter((api) => !removed.includes(api)).map((api) => [api.name, api] as const))('%s', (_name, api) => {
  it.each(versions(api))('v%i: request and response round-trip, and decode reads them whole', (version) => {
    for (const [side, fields] of [
      ['request', api.request],
      ['response', api.response],
    ] as const) {
      const codec = side === 'request' ? api.requestCodec(version) : api.responseCodec(version);
      fc.assert(
        fc.property(valueArb(fields, version), (value) => {
          const bytes = encodeWith(codec as never, value);
          expect(project(decodeWith(codec as never, bytes), fields, version)).toEqual(project(value, fields, version));
        }),
        { numRuns: RUNS, seed: api.key * 1000 + version * 2 + (side === 'request' ? 0 : 1) },
      );
    }
    // One value of each through the decode tool, in a whole frame.
    const [req] = fc.sample(valueArb(api.request, version), { numRuns: 1, seed: version });
    const reqFrame = encodeRequest(api, version, 7, 'gen', req as never);
    const annotatedReq = annotateRequest(reqFrame);
    expect(annotatedReq.api).toBe(api.name);
    expect(fullyDecoded(annotatedReq)).toBe(true);
    const [res] = fc.sample(valueArb(api.response, version), { numRuns: 1, seed: version });
    const annotatedRes = annotateResponse(responseFrame(api, version, encodeWith(api.responseCodec(version) as never, res!)), api.key, version);
    expect(fullyDecoded(annotatedRes)).toBe(true);
  });
});

describe('unknown tagged fields', () => {
  const find = (nodes: readonly TraceNode[], name: string): TraceNode => nodes.find((n) => n.field.startsWith(name))!;

  it('show in the trace with their tag and length, and the frame is not fully decoded', () => {
    const produce = apiDefinition(0)!;
    // Produce as a newer Kafka might define it: a top-level tagged field 42 that 4.3.1 does not know.
    const newer = defineApi({
      key: 0,
      name: 'Produce',
      versions: '3-13',
      flexible: '9+',
      request: [...(produce.request as never[]), field('future', 'int32', '12+', { tag: 42 })],
      response: produce.response as never[],
    });
    const frame = encodeRequest(newer, 12, 1, 'c', { acks: 1, timeoutMs: 5, topicData: [], future: 7 } as never);
    const annotated = annotateRequest(frame);
    expect(annotated.trailing).toBe(0);
    const unknown = unknownTaggedFields(annotated.nodes);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ type: 'unknown_tagged_field', tag: 42, length: 1 + 1 + 4, value: Buffer.from([0, 0, 0, 7]) });
    expect(find(find(annotated.nodes, 'body').children!, '_tagged_fields').children!.map((n) => n.type)).toEqual(['uvarint', 'unknown_tagged_field']);
    expect(fullyDecoded(annotated)).toBe(false);
  });

  it('in a response header are traced too', () => {
    const metadata = apiDefinition(3)!;
    const body = encodeWith(metadata.responseCodec(12) as never, {});
    // correlation id, then a header tagged-field section with tag 5, one byte.
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 9, 1, 5, 1, 0xab]), body]);
    const annotated = annotateResponse(frame, 3, 12);
    expect(unknownTaggedFields(annotated.nodes)).toMatchObject([{ tag: 5, type: 'unknown_tagged_field', offset: 5, length: 3 }]);
    expect(fullyDecoded(annotated)).toBe(false);
  });

  it('are not reported for a known tagged field', () => {
    const produce = apiDefinition(0)!;
    const body = encodeWith(produce.responseCodec(12) as never, { nodeEndpoints: [{ nodeId: 1, host: 'h', port: 9092, rack: null }] });
    const annotated = annotateResponse(responseFrame(produce, 12, body), 0, 12);
    expect(fullyDecoded(annotated)).toBe(true);
    const tagged = find(find(annotated.nodes, 'body').children!, '_tagged_fields').children!;
    expect(tagged[1]).toMatchObject({ field: 'nodeEndpoints (tag 0)', tag: 0 });
  });
});

describe('nullable struct fields', () => {
  it('are an int8 marker (-1 null, 1 present) then the struct, as Kafka writes them', () => {
    const hb = apiDefinitionByName('ConsumerGroupHeartbeat')!;
    const codec = hb.responseCodec(0);
    const base = { throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: null, memberEpoch: 1, heartbeatIntervalMs: 2 };
    const absent = encodeWith(codec as never, { ...base, assignment: null });
    const given = encodeWith(codec as never, { ...base, assignment: { topicPartitions: [] } });
    expect(given.length - absent.length).toBe(2); // the empty compact array and the struct's tag section
    const markerAt = absent.length - 2; // then the body's own tagged-field count
    expect(absent[markerAt]).toBe(0xff);
    expect(given[markerAt]).toBe(1);
    expect(decodeWith(codec as never, absent)['assignment']).toBeNull();
    expect(decodeWith(codec as never, given)['assignment']).toEqual({ topicPartitions: [] });
  });
});

describe('the headers frame.ts writes and reads', () => {
  it('are Kafka\'s RequestHeader v1/v2 (client id with an int16 length even when flexible) and ResponseHeader v0/v1', () => {
    const produce = apiDefinition(0)!;
    for (const [version, headerVersion] of [
      [8, 1],
      [9, 2],
    ] as const) {
      const frame = encodeRequest(produce, version, 42, 'clïent', { acks: 1, timeoutMs: 5, topicData: [] } as never);
      const header = encodeWith(structCodec(RequestHeader.fields, headerVersion, headerVersion >= 2) as never, {
        requestApiKey: 0,
        requestApiVersion: version,
        correlationId: 42,
        clientId: 'clïent',
      });
      expect(frame.subarray(4, 4 + header.length).toString('hex')).toBe(header.toString('hex'));
      expect(header[10 + Buffer.byteLength('clïent') - 1]).toBe(0x74); // int16 length then the bytes, flexible or not
    }
    const metadata = apiDefinition(3)!;
    for (const [version, headerVersion] of [
      [8, 0],
      [9, 1],
    ] as const) {
      const header = encodeWith(structCodec(ResponseHeader.fields, headerVersion, headerVersion >= 1) as never, { correlationId: 42 });
      const body = encodeWith(metadata.responseCodec(version) as never, {});
      expect(decodeResponse(metadata, version, Buffer.concat([header, body]))).toEqual(decodeWith(metadata.responseCodec(version) as never, body));
    }
  });
});

describe('bad input', () => {
  it('fuzzed or cut request and response frames give a ProtocolError or an annotation, never anything else', () => {
    const expectProtocolError = (f: () => unknown): void => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    };
    for (const api of ALL_APIS) {
      if (api.minVersion > api.maxVersion) continue;
      const version = api.maxVersion;
      const [value] = fc.sample(valueArb(api.response, version), { numRuns: 1, seed: api.key });
      const valid = responseFrame(api, version, encodeWith(api.responseCodec(version) as never, value!));
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 48 }), fc.nat(), (bytes, cut) => {
          expectProtocolError(() => annotateResponse(bytes, api.key, version));
          expectProtocolError(() => annotateResponse(valid.subarray(0, cut % valid.length), api.key, version));
          const header = Buffer.from([0, api.key, 0, version, 0, 0, 0, 1, 0, 0, ...(api.isFlexible(version) ? [0] : [])]);
          expectProtocolError(() => annotateRequest(Buffer.concat([header, bytes])));
        }),
        { numRuns: 30, seed: api.key },
      );
    }
  });
});
