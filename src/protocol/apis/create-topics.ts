/** CreateTopics (key 19): for tooling and tests; the producer never creates topics itself. */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

export const CreateTopics = defineApi({
  key: 19,
  name: 'CreateTopics',
  // Kafka 4.0 removed v0-1 (KIP-896); 3.9 still has them, and they differ only in validateOnly.
  versions: '0-7',
  flexible: '5+',
  clientThrottlesFrom: 3,
  request: [
    field(
      'topics',
      arrayOf([
        field('name', 'string', '0+'),
        // -1 takes the broker's default (v4+), or means "see assignments".
        field('numPartitions', 'int32', '0+', { default: -1 }),
        field('replicationFactor', 'int16', '0+', { default: -1 }),
        field('assignments', arrayOf([field('partitionIndex', 'int32', '0+'), field('brokerIds', arrayOf('int32'), '0+')]), '0+'),
        field('configs', arrayOf([field('name', 'string', '0+'), field('value', 'string', '0+', { nullable: '0+' })]), '0+'),
      ]),
      '0+',
    ),
    field('timeoutMs', 'int32', '0+', { default: 60000 }),
    field('validateOnly', 'bool', '1+', { default: false }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '2+', { ignorable: true }),
    field(
      'topics',
      arrayOf([
        field('name', 'string', '0+'),
        field('topicId', 'uuid', '7+', { ignorable: true }),
        field('errorCode', 'int16', '0+'),
        field('errorMessage', 'string', '1+', { nullable: '0+', default: null, ignorable: true }),
        field('topicConfigErrorCode', 'int16', '5+', { tag: 0, ignorable: true }),
        field('numPartitions', 'int32', '5+', { default: -1, ignorable: true }),
        field('replicationFactor', 'int16', '5+', { default: -1, ignorable: true }),
        field(
          'configs',
          arrayOf([
            field('name', 'string', '5+'),
            field('value', 'string', '5+', { nullable: '5+' }),
            field('readOnly', 'bool', '5+'),
            field('configSource', 'int8', '5+', { default: -1, ignorable: true }),
            field('isSensitive', 'bool', '5+'),
          ]),
          '5+',
          { nullable: '5+', ignorable: true },
        ),
      ]),
      '0+',
    ),
  ],
});
