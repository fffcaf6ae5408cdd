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
import { apiDefinition } from '../../src/protocol/registry.js';
import { decodeWith, encodeWith, project, valueArb } from './generated-values.js';

const RUNS = 10;

/** Hand-written APIs that keep versions Kafka 4.0 removed (KIP-896), for Kafka 3.x brokers. */
const RETIRED = new Set(['CreateTopics', 'DeleteTopics']);

const handWritten = [...API_BY_KEY.values()] as AnyApi[];

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
