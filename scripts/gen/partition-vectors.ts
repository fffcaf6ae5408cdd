/**
 * Regenerates test/producer/partitioners/java-vectors.json with the Java producer's own code
 * (Utils.murmur2, Utils.toPositive, BuiltInPartitioner), so the partitioner tests compare
 * against what Kafka computes rather than numbers typed by hand.
 *
 *   npx tsx scripts/gen/partition-vectors.ts [kafka-version]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureKafka } from '../kafka/dist.js';
import { javaBinary } from '../kafka/java.js';

// Pinned rather than LATEST_KAFKA so that adding a release to the harness does not silently
// change what the checked-in vectors claim to come from.
const version = process.argv[2] ?? '4.3.1';
const dist = await ensureKafka(version);
const source = fileURLToPath(new URL('./PartitionVectors.java', import.meta.url));
const target = fileURLToPath(new URL('../../test/producer/partitioners/java-vectors.json', import.meta.url));

// Compiled rather than run as a source file: the program reaches package-private members of
// BuiltInPartitioner, which needs it loaded by the same class loader as kafka-clients.
const classes = mkdtempSync(path.join(tmpdir(), 'kafka-wire-partition-vectors-'));
try {
  const javac = process.env['JAVA_HOME'] ? path.join(process.env['JAVA_HOME'], 'bin', 'javac') : 'javac';
  execFileSync(javac, ['-d', classes, '-cp', dist.classpath, source], { stdio: 'inherit' });
  execFileSync(
    javaBinary(),
    ['-cp', `${classes}${path.delimiter}${dist.classpath}`, 'org.apache.kafka.clients.producer.internals.PartitionVectors', target],
    // Java's logging backend may complain about missing configuration; only failures matter.
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
} finally {
  rmSync(classes, { recursive: true, force: true });
}

const written = JSON.parse(readFileSync(target, 'utf8')) as { kafkaVersion: string; keys: unknown[]; sticky: unknown[] };
console.log(
  `wrote ${written.keys.length} keys and ${written.sticky.length} sticky scenarios from Kafka ${written.kafkaVersion} to ${path.relative(process.cwd(), target)}`,
);
