/**
 * Regenerates src/protocol/generated/ from a real Kafka release's message definitions
 * (`common/message/*.json` inside its kafka-clients jar): every request/response pair
 * Kafka defines becomes one `defineApi` file, at every version Kafka defines, with
 * Kafka's field descriptions kept as comments. The jar is resolved as the other
 * generators resolve it (scripts/kafka/dist.ts: Maven into .cache/kafka/<version>/libs).
 * One thing is not in the JSON: from which version the client throttles itself (KIP-219);
 * that is asked of the jar's Java classes (needs `java`, as resolving the jar does).
 * Also written: headers.ts, Kafka's RequestHeader and ResponseHeader as field lists.
 *
 *   npx tsx scripts/gen/kafka-messages.ts [kafka-version]
 *
 * test/protocol/generated-up-to-date.test.ts re-runs the generation in memory and
 * compares it with the committed files.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafka, LATEST_KAFKA } from '../kafka/dist.js';
import { listJar, readJarEntry } from '../kafka/jar.js';
import { parseVersions } from '../../src/protocol/schema.js';
import { generateMessages, parseMessage } from './kafka-messages-core.js';
import { clientThrottleVersions } from './kafka-messages-java.js';

export const GENERATED_DIR = fileURLToPath(new URL('../../src/protocol/generated/', import.meta.url));

/** The message definitions in a kafka-clients jar: file name (e.g. `ProduceRequest.json`) → text. */
export async function readMessageDefinitions(jarPath: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await listJar(jarPath)) {
    const m = /^common\/message\/([^/]+\.json)$/.exec(entry.name);
    if (m) files.set(m[1]!, (await readJarEntry(jarPath, entry)).toString('utf8'));
  }
  if (files.size === 0) throw new Error(`${jarPath} has no common/message/*.json`);
  return files;
}

/** The kafka-clients jar of a release as the harness resolves it; its path is what the test checks for. */
export function clientsJarPath(libsDir: string, version: string): string {
  return path.join(libsDir, `kafka-clients-${version}.jar`);
}

/**
 * For each API key, the first version whose response Kafka's Java client throttles itself
 * for (`AbstractResponse.shouldClientThrottle`), asked of the jar's own classes.
 */
export async function clientThrottlesFrom(classpath: string, files: ReadonlyMap<string, string>): Promise<Map<number, number>> {
  const latest = new Map<number, number>();
  for (const [name, text] of files) {
    if (!name.endsWith('Response.json')) continue;
    const m = parseMessage(text);
    if (m.type === 'response' && m.apiKey !== undefined && m.validVersions !== 'none') latest.set(m.apiKey, parseVersions(m.validVersions).max);
  }
  const versions = clientThrottleVersions([...latest.keys()].sort((a, b) => a - b), classpath);
  const out = new Map<number, number>();
  for (const [key, list] of versions) {
    if (list.length === 0) continue;
    // Kafka's rule is "from version N on": check that it is one unbroken run to the latest version.
    const from = list[0]!;
    if (list.some((v, i) => v !== from + i) || list[list.length - 1] !== latest.get(key)) {
      throw new Error(`API key ${key}: the client throttles itself in versions ${list.join(',')}, not "from ${from} on"`);
    }
    out.set(key, from);
  }
  return out;
}

async function main(): Promise<void> {
  const version = process.argv[2] ?? LATEST_KAFKA;
  const dist = await ensureKafka(version);
  const files = await readMessageDefinitions(clientsJarPath(dist.libsDir, version));
  const generated = generateMessages(files, version, await clientThrottlesFrom(dist.classpath, files));
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const old of readdirSync(GENERATED_DIR)) if (old.endsWith('.ts') && !generated.has(old)) rmSync(path.join(GENERATED_DIR, old));
  for (const [name, source] of generated) writeFileSync(path.join(GENERATED_DIR, name), source);
  const apis = [...generated.keys()].filter((f) => f !== 'index.ts' && f !== 'headers.ts').length;
  console.log(`wrote ${apis} APIs and the headers from ${files.size} message definitions of Kafka ${version} into ${path.relative(process.cwd(), GENERATED_DIR)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
