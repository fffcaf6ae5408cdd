/** ApiVersions (key 18): which versions of which APIs the broker speaks. */
import { defineApi } from '../api.js';
import { VERSION } from '../../version.js';
import { arrayOf, field } from '../schema.js';

export const ApiVersions = defineApi({
  key: 18,
  name: 'ApiVersions',
  versions: '0-4',
  flexible: '3+',
  clientThrottlesFrom: 2,
  request: [
    field('clientSoftwareName', 'string', '3+', { ignorable: true, default: 'kafka-wire' }),
    field('clientSoftwareVersion', 'string', '3+', { ignorable: true, default: VERSION }),
  ],
  response: [
    field('errorCode', 'int16', '0+'),
    field(
      'apiKeys',
      arrayOf([field('apiKey', 'int16', '0+'), field('minVersion', 'int16', '0+'), field('maxVersion', 'int16', '0+')]),
      '0+',
    ),
    field('throttleTimeMs', 'int32', '1+', { ignorable: true }),
    field(
      'supportedFeatures',
      arrayOf([field('name', 'string', '3+'), field('minVersion', 'int16', '3+'), field('maxVersion', 'int16', '3+')]),
      '3+',
      { tag: 0, ignorable: true },
    ),
    field('finalizedFeaturesEpoch', 'int64', '3+', { tag: 1, default: -1n, ignorable: true }),
    field(
      'finalizedFeatures',
      arrayOf([field('name', 'string', '3+'), field('maxVersionLevel', 'int16', '3+'), field('minVersionLevel', 'int16', '3+')]),
      '3+',
      { tag: 2, ignorable: true },
    ),
    field('zkMigrationReady', 'bool', '3+', { tag: 3, default: false, ignorable: true }),
  ],
});
