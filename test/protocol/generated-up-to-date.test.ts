/**
 * src/protocol/generated/ is what scripts/gen/kafka-messages.ts makes of Kafka 4.3.1's
 * message definitions: the generation is re-run in memory and compared file by file.
 * Needs the kafka-clients jar the harness resolves into .cache/kafka/4.3.1/libs (any
 * test run against a broker, or `npx tsx scripts/gen/kafka-messages.ts`, fetches it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMessages } from '../../scripts/gen/kafka-messages-core.js';
import { clientsJarPath, GENERATED_DIR, readMessageDefinitions } from '../../scripts/gen/kafka-messages.js';
import { kafkaDistDir } from '../../scripts/kafka/paths.js';
import { GENERATED_APIS, GENERATED_KAFKA_VERSION } from '../../src/protocol/generated/index.js';

const jar = clientsJarPath(path.join(kafkaDistDir(GENERATED_KAFKA_VERSION), 'libs'), GENERATED_KAFKA_VERSION);
const jarPresent = existsSync(jar);

const title = `is what scripts/gen/kafka-messages.ts generates from Kafka ${GENERATED_KAFKA_VERSION}`;

describe('src/protocol/generated/', () => {
  it.skipIf(!jarPresent)(jarPresent ? title : `${title} (skipped: no ${jar}; npx tsx scripts/gen/kafka-messages.ts fetches it)`, async () => {
    // clientThrottlesFrom comes from Kafka's Java classes, not its JSON: the committed values are
    // taken here, and generated-java.test.ts checks them against Kafka's client.
    const throttles = new Map(GENERATED_APIS.filter((api) => api.clientThrottlesFrom !== undefined).map((api) => [api.key, api.clientThrottlesFrom!]));
    const generated = generateMessages(await readMessageDefinitions(jar), GENERATED_KAFKA_VERSION, throttles);
    const committed = readdirSync(GENERATED_DIR).filter((f) => f.endsWith('.ts')).sort();
    expect(committed).toEqual([...generated.keys()].sort());
    for (const [name, source] of generated) {
      expect(readFileSync(path.join(GENERATED_DIR, name), 'utf8'), `${name} differs: run npx tsx scripts/gen/kafka-messages.ts`).toBe(source);
    }
  });
});
