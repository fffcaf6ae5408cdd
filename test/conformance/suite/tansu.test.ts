/**
 * The conformance suite against Tansu 0.6.0, started here with memory storage. Runs only
 * when .cache/tansu/bin/tansu is already built (`npx tsx scripts/tansu/tansu.ts build`;
 * CI does not build it): it must find exactly the differences from Apache Kafka that
 * docs/conformance/tansu.md lists, each checked by hand against Tansu's source.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hasTansu, startTansu, type RunningTansu } from '../../../scripts/tansu/tansu.js';
import { expectDifferences } from './known-differences.js';

/** Check id → status, for every check that does not pass against Tansu. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  // Tansu answers an unknown ApiVersions version with NONE in the flexible layout, not v0 UNSUPPORTED_VERSION.
  'api-versions/unknown-version': 'fail',
  // CreateTopics v5+ answers carry no configs.
  ...Object.fromEntries([5, 6, 7].map((v) => [`create-topics/v${v}`, 'fail'])),
  // Produce with acks=0 is answered (every version × codec Tansu and kafka-wire share).
  ...Object.fromEntries(
    [3, 4, 5, 6, 7, 8, 9, 10, 11].flatMap((v) =>
      ['none', 'gzip', 'snappy', 'lz4', ...(v >= 7 ? ['zstd'] : [])].map((codec) => [`produce/v${v}/${codec}/acks=0`, 'fail']),
    ),
  ),
  // log_append_time_ms is always -1; the topic's timestamp type is not applied.
  'produce/log-append-time': 'fail',
  // The produce path validates nothing but the idempotent epoch and sequence.
  'limits/max-message-bytes/one-byte-over': 'fail',
  ...Object.fromEntries([3, 4, 5, 6].map((v) => [`limits/zstd-below-v7/v${v}`, 'fail'])),
  'limits/corrupt-crc': 'fail',
  'limits/bad-acks': 'fail',
  'limits/unknown-topic': 'fail',
  // Tansu 0.6.0 offers Produce up to v11.
  'limits/unknown-topic-id': 'not offered',
  // DUPLICATE_SEQUENCE_NUMBER where Kafka answers NONE with the original offset.
  'idempotence/duplicate': 'differs',
  // Only the epoch InitProducerId handed out is taken: a producer's own bump is PRODUCER_FENCED.
  'idempotence/epoch-bump': 'fail',
  // No EndTxn in its ApiVersions.
  ...Object.fromEntries(
    ['v1', 'v2'].flatMap((tv) => ['commit', 'abort', 'read-committed', 'fencing', 'send-offsets'].map((c) => [`transactions/${tv}/${c}`, 'not offered'])),
  ),
  // No AlterClientQuotas in its ApiVersions.
  ...Object.fromEntries(['quota-set', 'produce-throttled', 'answered-at-once', 'channel-muted', 'unknown-quota-key', 'quota-removed'].map((c) => [`throttling/${c}`, 'not offered'])),
};

describe.runIf(hasTansu())('kafka-wire conformance against Tansu 0.6.0', () => {
  let tansu: RunningTansu;
  beforeAll(async () => {
    tansu = await startTansu();
  });
  afterAll(async () => {
    await tansu?.stop();
  });

  it('differs from Apache Kafka exactly where docs/conformance/tansu.md says', async () => {
    await expectDifferences(tansu.bootstrap, KNOWN_DIFFERENCES);
  }, 300_000);
});
