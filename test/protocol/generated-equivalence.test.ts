/**
 * The producer's hand-written API definitions (src/protocol/apis/) against the ones
 * generated from Kafka 4.3.1's message definitions (src/protocol/generated/): for every
 * hand-written API and every version it has, both write identical bytes for the same
 * random values, and each reads the other's bytes back to those values. Values are drawn
 * from each definition in turn, so a field that only one of them has would show.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyApi } from '../../src/protocol/api.js';
import { API_BY_KEY } from '../../src/protocol/apis/index.js';
import { structCodec } from '../../src/protocol/codec.js';
import * as Generated from '../../src/protocol/generated/index.js';
import * as HandWritten from '../../src/protocol/apis/index.js';
import type { RequestOf, ResponseOf } from '../../src/protocol/api.js';
import { apiDefinition } from '../../src/protocol/registry.js';
import { decodeWith, encodeWith, project, valueArb } from './generated-values.js';

const RUNS = 10;

/** Hand-written APIs that keep versions Kafka 4.0 removed (KIP-896), for Kafka 3.x brokers. */
const RETIRED = new Set(['CreateTopics', 'DeleteTopics']);

const handWritten = [...API_BY_KEY.values()] as AnyApi[];

// The TypeScript types the producer relies on are the same when inferred from either definition
// (each is assignable to the other, checked by tsc), but for response fields that only
// versions beyond the hand-written range have.
const typesAgree = {
  AddOffsetsToTxn: [
    (x: RequestOf<typeof HandWritten.AddOffsetsToTxn>): RequestOf<typeof Generated.AddOffsetsToTxn> => x,
    (x: RequestOf<typeof Generated.AddOffsetsToTxn>): RequestOf<typeof HandWritten.AddOffsetsToTxn> => x,
    (x: ResponseOf<typeof HandWritten.AddOffsetsToTxn>): ResponseOf<typeof Generated.AddOffsetsToTxn> => x,
    (x: ResponseOf<typeof Generated.AddOffsetsToTxn>): ResponseOf<typeof HandWritten.AddOffsetsToTxn> => x,
  ],
  AddPartitionsToTxn: [
    (x: RequestOf<typeof HandWritten.AddPartitionsToTxn>): RequestOf<typeof Generated.AddPartitionsToTxn> => x,
    (x: RequestOf<typeof Generated.AddPartitionsToTxn>): RequestOf<typeof HandWritten.AddPartitionsToTxn> => x,
    // Not the other way: Kafka's response has fields of v4+ (errorCode, resultsByTransaction), beyond the versions we speak.
    (x: ResponseOf<typeof Generated.AddPartitionsToTxn>): ResponseOf<typeof HandWritten.AddPartitionsToTxn> => x,
  ],
  AlterClientQuotas: [
    (x: RequestOf<typeof HandWritten.AlterClientQuotas>): RequestOf<typeof Generated.AlterClientQuotas> => x,
    (x: RequestOf<typeof Generated.AlterClientQuotas>): RequestOf<typeof HandWritten.AlterClientQuotas> => x,
    (x: ResponseOf<typeof HandWritten.AlterClientQuotas>): ResponseOf<typeof Generated.AlterClientQuotas> => x,
    (x: ResponseOf<typeof Generated.AlterClientQuotas>): ResponseOf<typeof HandWritten.AlterClientQuotas> => x,
  ],
  ApiVersions: [
    (x: RequestOf<typeof HandWritten.ApiVersions>): RequestOf<typeof Generated.ApiVersions> => x,
    (x: RequestOf<typeof Generated.ApiVersions>): RequestOf<typeof HandWritten.ApiVersions> => x,
    (x: ResponseOf<typeof HandWritten.ApiVersions>): ResponseOf<typeof Generated.ApiVersions> => x,
    (x: ResponseOf<typeof Generated.ApiVersions>): ResponseOf<typeof HandWritten.ApiVersions> => x,
  ],
  CreateTopics: [
    (x: RequestOf<typeof HandWritten.CreateTopics>): RequestOf<typeof Generated.CreateTopics> => x,
    (x: RequestOf<typeof Generated.CreateTopics>): RequestOf<typeof HandWritten.CreateTopics> => x,
    (x: ResponseOf<typeof HandWritten.CreateTopics>): ResponseOf<typeof Generated.CreateTopics> => x,
    (x: ResponseOf<typeof Generated.CreateTopics>): ResponseOf<typeof HandWritten.CreateTopics> => x,
  ],
  DeleteTopics: [
    (x: RequestOf<typeof HandWritten.DeleteTopics>): RequestOf<typeof Generated.DeleteTopics> => x,
    (x: RequestOf<typeof Generated.DeleteTopics>): RequestOf<typeof HandWritten.DeleteTopics> => x,
    (x: ResponseOf<typeof HandWritten.DeleteTopics>): ResponseOf<typeof Generated.DeleteTopics> => x,
    (x: ResponseOf<typeof Generated.DeleteTopics>): ResponseOf<typeof HandWritten.DeleteTopics> => x,
  ],
  EndTxn: [
    (x: RequestOf<typeof HandWritten.EndTxn>): RequestOf<typeof Generated.EndTxn> => x,
    (x: RequestOf<typeof Generated.EndTxn>): RequestOf<typeof HandWritten.EndTxn> => x,
    (x: ResponseOf<typeof HandWritten.EndTxn>): ResponseOf<typeof Generated.EndTxn> => x,
    (x: ResponseOf<typeof Generated.EndTxn>): ResponseOf<typeof HandWritten.EndTxn> => x,
  ],
  Fetch: [
    (x: RequestOf<typeof HandWritten.Fetch>): RequestOf<typeof Generated.Fetch> => x,
    (x: RequestOf<typeof Generated.Fetch>): RequestOf<typeof HandWritten.Fetch> => x,
    (x: ResponseOf<typeof HandWritten.Fetch>): ResponseOf<typeof Generated.Fetch> => x,
    (x: ResponseOf<typeof Generated.Fetch>): ResponseOf<typeof HandWritten.Fetch> => x,
  ],
  FindCoordinator: [
    (x: RequestOf<typeof HandWritten.FindCoordinator>): RequestOf<typeof Generated.FindCoordinator> => x,
    (x: RequestOf<typeof Generated.FindCoordinator>): RequestOf<typeof HandWritten.FindCoordinator> => x,
    (x: ResponseOf<typeof HandWritten.FindCoordinator>): ResponseOf<typeof Generated.FindCoordinator> => x,
    (x: ResponseOf<typeof Generated.FindCoordinator>): ResponseOf<typeof HandWritten.FindCoordinator> => x,
  ],
  InitProducerId: [
    (x: RequestOf<typeof HandWritten.InitProducerId>): RequestOf<typeof Generated.InitProducerId> => x,
    (x: RequestOf<typeof Generated.InitProducerId>): RequestOf<typeof HandWritten.InitProducerId> => x,
    // Not the other way: Kafka's response has fields of v6 (ongoingTxnProducerId, ongoingTxnProducerEpoch), beyond the versions we speak.
    (x: ResponseOf<typeof Generated.InitProducerId>): ResponseOf<typeof HandWritten.InitProducerId> => x,
  ],
  ListOffsets: [
    (x: RequestOf<typeof HandWritten.ListOffsets>): RequestOf<typeof Generated.ListOffsets> => x,
    (x: RequestOf<typeof Generated.ListOffsets>): RequestOf<typeof HandWritten.ListOffsets> => x,
    (x: ResponseOf<typeof HandWritten.ListOffsets>): ResponseOf<typeof Generated.ListOffsets> => x,
    (x: ResponseOf<typeof Generated.ListOffsets>): ResponseOf<typeof HandWritten.ListOffsets> => x,
  ],
  Metadata: [
    (x: RequestOf<typeof HandWritten.Metadata>): RequestOf<typeof Generated.Metadata> => x,
    (x: RequestOf<typeof Generated.Metadata>): RequestOf<typeof HandWritten.Metadata> => x,
    (x: ResponseOf<typeof HandWritten.Metadata>): ResponseOf<typeof Generated.Metadata> => x,
    (x: ResponseOf<typeof Generated.Metadata>): ResponseOf<typeof HandWritten.Metadata> => x,
  ],
  Produce: [
    (x: RequestOf<typeof HandWritten.Produce>): RequestOf<typeof Generated.Produce> => x,
    (x: RequestOf<typeof Generated.Produce>): RequestOf<typeof HandWritten.Produce> => x,
    (x: ResponseOf<typeof HandWritten.Produce>): ResponseOf<typeof Generated.Produce> => x,
    (x: ResponseOf<typeof Generated.Produce>): ResponseOf<typeof HandWritten.Produce> => x,
  ],
  SaslAuthenticate: [
    (x: RequestOf<typeof HandWritten.SaslAuthenticate>): RequestOf<typeof Generated.SaslAuthenticate> => x,
    (x: RequestOf<typeof Generated.SaslAuthenticate>): RequestOf<typeof HandWritten.SaslAuthenticate> => x,
    (x: ResponseOf<typeof HandWritten.SaslAuthenticate>): ResponseOf<typeof Generated.SaslAuthenticate> => x,
    (x: ResponseOf<typeof Generated.SaslAuthenticate>): ResponseOf<typeof HandWritten.SaslAuthenticate> => x,
  ],
  SaslHandshake: [
    (x: RequestOf<typeof HandWritten.SaslHandshake>): RequestOf<typeof Generated.SaslHandshake> => x,
    (x: RequestOf<typeof Generated.SaslHandshake>): RequestOf<typeof HandWritten.SaslHandshake> => x,
    (x: ResponseOf<typeof HandWritten.SaslHandshake>): ResponseOf<typeof Generated.SaslHandshake> => x,
    (x: ResponseOf<typeof Generated.SaslHandshake>): ResponseOf<typeof HandWritten.SaslHandshake> => x,
  ],
  TxnOffsetCommit: [
    (x: RequestOf<typeof HandWritten.TxnOffsetCommit>): RequestOf<typeof Generated.TxnOffsetCommit> => x,
    (x: RequestOf<typeof Generated.TxnOffsetCommit>): RequestOf<typeof HandWritten.TxnOffsetCommit> => x,
    (x: ResponseOf<typeof HandWritten.TxnOffsetCommit>): ResponseOf<typeof Generated.TxnOffsetCommit> => x,
    (x: ResponseOf<typeof Generated.TxnOffsetCommit>): ResponseOf<typeof HandWritten.TxnOffsetCommit> => x,
  ],
};

it('has the same inferred request and response types for every hand-written API (checked by tsc)', () => {
  expect(Object.keys(typesAgree).sort()).toEqual(handWritten.map((api) => api.name).sort());
});

describe.each(handWritten.map((api) => [api.name, api] as const))('%s', (_name, hand) => {
  const generated = apiDefinition(hand.key)!;

  it('is the API Kafka defines under its key, flexible from the same version, no newer than Kafka 4.3.1', () => {
    expect(generated).toBeDefined();
    expect(hand.name).toBe(generated.name);
    expect(hand.maxVersion).toBeLessThanOrEqual(generated.maxVersion);
    expect(hand.firstFlexible).toBe(generated.firstFlexible);
    // Older versions than Kafka 4.3.1 defines are kept on purpose for 3.x brokers (KIP-896 removed them in 4.0).
    expect(hand.minVersion >= generated.minVersion || RETIRED.has(hand.name)).toBe(true);
  });

  const versions: number[] = [];
  for (let v = hand.minVersion; v <= hand.maxVersion; v++) versions.push(v);

  it.each(versions)('v%i: same bytes, and each reads the other’s', (version) => {
    // Versions Kafka 4.0 retired are compared with the fields as Kafka's JSON still describes them.
    const retired = version < generated.minVersion;
    const generatedCodecOf = (side: 'request' | 'response'): unknown =>
      retired ? structCodec(generated[side], version, generated.isFlexible(version)) : side === 'request' ? generated.requestCodec(version) : generated.responseCodec(version);
    for (const side of ['request', 'response'] as const) {
      const handCodec = (side === 'request' ? hand.requestCodec(version) : hand.responseCodec(version)) as never;
      const generatedCodec = generatedCodecOf(side) as never;
      for (const [from, fields] of [
        ['hand-written', hand[side]],
        ['generated', generated[side]],
      ] as const) {
        fc.assert(
          fc.property(valueArb(fields, version), (value) => {
            const handBytes = encodeWith(handCodec, value);
            const generatedBytes = encodeWith(generatedCodec, value);
            expect(generatedBytes.toString('hex'), `${side} v${version}, values from the ${from} definition`).toBe(handBytes.toString('hex'));
            const expected = project(value, fields, version);
            expect(project(decodeWith(generatedCodec, handBytes), fields, version)).toEqual(expected);
            expect(project(decodeWith(handCodec, generatedBytes), fields, version)).toEqual(expected);
          }),
          { numRuns: RUNS, seed: hand.key * 100 + version },
        );
      }
    }
  });
});
