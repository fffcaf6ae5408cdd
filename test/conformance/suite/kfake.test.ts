/**
 * The conformance suite against franz-go's kfake, built and started here (skipped when
 * the Go toolchain is missing): it must find exactly the differences from Apache Kafka
 * that docs/conformance/kfake.md lists, each checked by hand against kfake's source.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hasGo, startKfake, type RunningKfake } from '../../../scripts/kfake/kfake.js';
import { expectDifferences } from './known-differences.js';

/** Check id → status, for every check that does not pass against kfake. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  // kfake parses the body at the version asked before it looks at the version, fails, and closes the connection.
  'api-versions/unknown-version': 'fail',
  // kfake stamps LogAppendTime only when the producer sets the batch's timestamp-type bit, not from the topic's config.
  'produce/log-append-time': 'fail',
  // kfake takes zstd batches at every Produce version (Kafka refuses them below v7, KIP-110).
  ...Object.fromEntries([3, 4, 5, 6].map((v) => [`limits/zstd-below-v7/v${v}`, 'fail'])),
  // kfake stores quotas (any key, unchecked) and never throttles: no throttled answer to time either.
  ...Object.fromEntries(['produce-throttled', 'answered-at-once', 'channel-muted', 'unknown-quota-key'].map((c) => [`throttling/${c}`, 'fail'])),
};

describe.runIf(await hasGo())('kafka-wire conformance against franz-go kfake', () => {
  let kfake: RunningKfake;
  beforeAll(async () => {
    kfake = await startKfake();
  }, 600_000);
  afterAll(async () => {
    await kfake?.stop();
  });

  it('differs from Apache Kafka exactly where docs/conformance/kfake.md says', async () => {
    await expectDifferences(kfake.bootstrap, KNOWN_DIFFERENCES);
  });
});
