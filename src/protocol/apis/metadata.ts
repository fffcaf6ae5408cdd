/** Metadata (key 3): brokers, topics, partitions and their leaders. */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

const MIN_INT32 = -2147483648;

export const Metadata = defineApi({
  key: 3,
  name: 'Metadata',
  versions: '0-13',
  flexible: '9+',
  clientThrottlesFrom: 6,
  request: [
    // v0: an empty array means all topics. v1+: null means all topics, empty means none.
    field(
      'topics',
      arrayOf([field('topicId', 'uuid', '10+', { ignorable: true }), field('name', 'string', '0+', { nullable: '10+' })]),
      '0+',
      { nullable: '1+' },
    ),
    field('allowAutoTopicCreation', 'bool', '4+', { default: true }),
    field('includeClusterAuthorizedOperations', 'bool', '8-10'),
    field('includeTopicAuthorizedOperations', 'bool', '8+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '3+', { ignorable: true }),
    field(
      'brokers',
      arrayOf([
        field('nodeId', 'int32', '0+'),
        field('host', 'string', '0+'),
        field('port', 'int32', '0+'),
        field('rack', 'string', '1+', { nullable: '1+', default: null, ignorable: true }),
      ]),
      '0+',
    ),
    field('clusterId', 'string', '2+', { nullable: '2+', default: null, ignorable: true }),
    field('controllerId', 'int32', '1+', { default: -1, ignorable: true }),
    field(
      'topics',
      arrayOf([
        field('errorCode', 'int16', '0+'),
        field('name', 'string', '0+', { nullable: '12+' }),
        field('topicId', 'uuid', '10+', { ignorable: true }),
        field('isInternal', 'bool', '1+', { default: false, ignorable: true }),
        field(
          'partitions',
          arrayOf([
            field('errorCode', 'int16', '0+'),
            field('partitionIndex', 'int32', '0+'),
            field('leaderId', 'int32', '0+'),
            field('leaderEpoch', 'int32', '7+', { default: -1, ignorable: true }),
            field('replicaNodes', arrayOf('int32'), '0+'),
            field('isrNodes', arrayOf('int32'), '0+'),
            field('offlineReplicas', arrayOf('int32'), '5+', { ignorable: true }),
          ]),
          '0+',
        ),
        field('topicAuthorizedOperations', 'int32', '8+', { default: MIN_INT32 }),
      ]),
      '0+',
    ),
    field('clusterAuthorizedOperations', 'int32', '8-10', { default: MIN_INT32 }),
    field('errorCode', 'int16', '13+', { ignorable: true }),
  ],
});
