/**
 * TxnOffsetCommit (key 28): offsets committed as part of a transaction, sent to the
 * group's coordinator; they become visible only if the transaction commits. v3 adds the
 * group member fields (KIP-447); v5 with transactions v2 adds the group implicitly.
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

export const TxnOffsetCommit = defineApi({
  key: 28,
  name: 'TxnOffsetCommit',
  versions: '0-5',
  flexible: '3+',
  clientThrottlesFrom: 1,
  request: [
    field('transactionalId', 'string', '0+'),
    field('groupId', 'string', '0+'),
    field('producerId', 'int64', '0+'),
    field('producerEpoch', 'int16', '0+'),
    field('generationId', 'int32', '3+', { default: -1 }),
    field('memberId', 'string', '3+', { default: '' }),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    field(
      'topics',
      arrayOf([
        field('name', 'string', '0+'),
        field(
          'partitions',
          arrayOf([
            field('partitionIndex', 'int32', '0+'),
            field('committedOffset', 'int64', '0+'),
            field('committedLeaderEpoch', 'int32', '2+', { default: -1, ignorable: true }),
            field('committedMetadata', 'string', '0+', { nullable: '0+', default: null }),
          ]),
          '0+',
        ),
      ]),
      '0+',
    ),
  ],
  response: [
    field('throttleTimeMs', 'int32', '0+'),
    field(
      'topics',
      arrayOf([field('name', 'string', '0+'), field('partitions', arrayOf([field('partitionIndex', 'int32', '0+'), field('errorCode', 'int16', '0+')]), '0+')]),
      '0+',
    ),
  ],
});
