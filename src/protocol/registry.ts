/**
 * Every API Kafka defines, at every version it defines, generated from Kafka's own message
 * definitions (src/protocol/generated/, `npx tsx scripts/gen/kafka-messages.ts`).
 *
 * For the decode tool and the proxy, which must read whatever a client or broker sends.
 * The producer does not import this module: it speaks only the APIs in ./apis/, whose
 * definitions are hand-written with the narrower version ranges it uses (and checked
 * against these by test/protocol/generated-equivalence.test.ts), so its import cost does
 * not include some 90 API definitions.
 */
import type { AnyApi } from './api.js';
import { API_BY_KEY } from './apis/index.js';
import { GENERATED_APIS, GENERATED_KAFKA_VERSION } from './generated/index.js';

/** The Kafka release the definitions come from. */
export const REGISTRY_KAFKA_VERSION: string = GENERATED_KAFKA_VERSION;

/** Every API, in key order. */
export const ALL_APIS: readonly AnyApi[] = GENERATED_APIS;

const byKey = new Map<number, AnyApi>(ALL_APIS.map((api) => [api.key, api]));
const byName = new Map<string, AnyApi>(ALL_APIS.map((api) => [api.name.toLowerCase(), api]));

/** The definition of an API key, or undefined for a key Kafka does not define. */
export function apiDefinition(key: number): AnyApi | undefined {
  return byKey.get(key);
}

/** The definition of an API by name, case-insensitively (`'Produce'`, `'describeacls'`). */
export function apiDefinitionByName(name: string): AnyApi | undefined {
  return byName.get(name.toLowerCase());
}

/**
 * The definition to read `version` of an API with: Kafka's, or for a version Kafka 4.0
 * retired that kafka-wire still speaks to 3.x brokers (CreateTopics v0-1, DeleteTopics v0,
 * KIP-896), the producer's hand-written one. Undefined when neither has that version.
 */
export function apiDefinitionAt(key: number, version: number): AnyApi | undefined {
  const api = byKey.get(key);
  if (api && version >= api.minVersion && version <= api.maxVersion) return api;
  const ours = API_BY_KEY.get(key);
  if (ours && version >= ours.minVersion && version <= ours.maxVersion) return ours;
  return undefined;
}
