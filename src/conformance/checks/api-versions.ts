/**
 * ApiVersions: every version from 0 to ours answers and lists what a producer needs, and
 * a version the broker does not know gets the KIP-511 answer (a v0 body with
 * UNSUPPORTED_VERSION and the broker's own ApiVersions range), so clients can go lower.
 */
import { defineApi } from '../../protocol/api.js';
import { ApiVersions, Metadata, Produce } from '../../protocol/apis/index.js';
import { arrayOf, field } from '../../protocol/schema.js';
import type { Category, Check } from '../check.js';
import { errorName } from '../errors.js';
import { CheckFailure, expectEqual } from '../failure.js';

/** A version of ApiVersions no broker speaks. */
const UNKNOWN_VERSION = 32767;

/**
 * ApiVersions as a client that knows no version limit sees it: the request body is empty
 * at every version, and the KIP-511 answer is laid out as v0 whatever version was asked.
 */
const ApiVersionsProbe = defineApi({
  key: ApiVersions.key,
  name: 'ApiVersions',
  versions: `0-${UNKNOWN_VERSION}`,
  // Laid out as ApiVersions v3+, as a newer client would send it: a header with tagged
  // fields and the client software fields (brokers that parse before looking at the version need them).
  flexible: '3+',
  request: [field('clientSoftwareName', 'string', '3+'), field('clientSoftwareVersion', 'string', '3+')],
  response: [field('errorCode', 'int16', '0+'), field('apiKeys', arrayOf([field('apiKey', 'int16', '0+'), field('minVersion', 'int16', '0+'), field('maxVersion', 'int16', '0+')]), '0+')],
});

export const apiVersionsCategory: Category = {
  name: 'api-versions',
  async plan(session, broker) {
    const theirs = broker.brokerVersions.get(ApiVersions.key);
    const checks: Check[] = [];
    for (let v = 0; v <= ApiVersions.maxVersion; v++) {
      checks.push({
        id: `api-versions/v${v}`,
        title: `ApiVersions v${v} answers and lists Produce and Metadata`,
        ...(theirs && v > theirs.max ? { notOffered: `the broker offers ApiVersions v${theirs.min}-v${theirs.max}` } : {}),
        async run(t) {
          const response = await session.call(await session.connection(), ApiVersions, v, { clientSoftwareName: 'kafka-wire', clientSoftwareVersion: 'conformance' });
          expectEqual('error code', errorName(response.errorCode), 'NONE');
          for (const api of [Produce, Metadata]) {
            if (!response.apiKeys.some((k) => k.apiKey === api.key)) throw new CheckFailure(`ApiVersions v${v} does not list ${api.name}`);
          }
          if (v >= 3 && response.finalizedFeatures.length > 0 && response.finalizedFeaturesEpoch < 0n) {
            throw new CheckFailure(`finalized features without an epoch (${response.finalizedFeaturesEpoch})`);
          }
          t.observe('errorCode', errorName(response.errorCode));
        },
      });
    }
    checks.push({
      id: 'api-versions/unknown-version',
      title: 'an unknown ApiVersions version gets UNSUPPORTED_VERSION and the broker\'s range (KIP-511)',
      async run(t) {
        // A fresh connection: what a broker does after such a request is its own business.
        const conn = await session.open();
        try {
          const response = await session.call(conn, ApiVersionsProbe, UNKNOWN_VERSION, { clientSoftwareName: 'kafka-wire', clientSoftwareVersion: 'conformance' });
          expectEqual('error code', errorName(response.errorCode), 'UNSUPPORTED_VERSION');
          const range = response.apiKeys.find((k) => k.apiKey === ApiVersions.key);
          if (!range) throw new CheckFailure('the answer does not list ApiVersions itself, so a client cannot pick a lower version');
          expectEqual('ApiVersions range', { min: range.minVersion, max: range.maxVersion }, theirs);
          t.observe('errorCode', errorName(response.errorCode));
          t.observe('listsOnlyApiVersions', response.apiKeys.length === 1);
        } finally {
          await conn.close();
        }
      },
    });
    return checks;
  },
};
