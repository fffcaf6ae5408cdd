/**
 * DeleteTopics (key 20): for tooling and tests (the conformance suite removes the topics
 * it created); the producer never deletes topics. v6 names topics by name or id.
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

export const DeleteTopics = defineApi({
  key: 20,
  name: 'DeleteTopics',
  // Kafka 4.0 removed v0 (KIP-896); the others differ only in throttling and framing.
  versions: '0-6',
  flexible: '4+',
  clientThrottlesFrom: 2,
  request: [
    field('topics', arrayOf([field('name', 'string', '6+', { nullable: '6+' }), field('topicId', 'uuid', '6+')]), '6+'),
    field('topicNames', arrayOf('string'), '0-5', { ignorable: true }),
    field('timeoutMs', 'int32', '0+', { default: 30000 }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+', { ignorable: true }),
    field(
      'responses',
      arrayOf([
        field('name', 'string', '0+', { nullable: '6+' }),
        field('topicId', 'uuid', '6+', { ignorable: true }),
        field('errorCode', 'int16', '0+'),
        field('errorMessage', 'string', '5+', { nullable: '5+', default: null, ignorable: true }),
      ]),
      '0+',
    ),
  ],
});
