/**
 * Fetch (key 1), decode side: kafka-wire is not a consumer, but its conformance checks
 * read back what was written, with read_uncommitted or read_committed isolation.
 * v4 is the floor: isolation level, last stable offset and aborted transactions.
 * v12: flexible. v13: topic ids. v15: replica state moved to a tagged field.
 */
import { defineApi } from '../api.js';
import { arrayOf, field, struct } from '../schema.js';

const nodeEndpoint = [
  field('nodeId', 'int32', '16+'),
  field('host', 'string', '16+'),
  field('port', 'int32', '16+'),
  field('rack', 'string', '16+', { nullable: '16+', default: null }),
] as const;

export const Fetch = defineApi({
  key: 1,
  name: 'Fetch',
  versions: '4-18',
  flexible: '12+',
  clientThrottlesFrom: 8,
  request: [
    field('clusterId', 'string', '12+', { nullable: '12+', default: null, tag: 0, ignorable: true }),
    field('replicaId', 'int32', '0-14', { default: -1 }),
    field(
      'replicaState',
      struct([field('replicaId', 'int32', '15+', { default: -1 }), field('replicaEpoch', 'int64', '15+', { default: -1n })]),
      '15+',
      { tag: 1 },
    ),
    field('maxWaitMs', 'int32', '0+'),
    field('minBytes', 'int32', '0+'),
    field('maxBytes', 'int32', '3+', { default: 0x7fffffff, ignorable: true }),
    // 0 read_uncommitted, 1 read_committed.
    field('isolationLevel', 'int8', '4+', { default: 0, ignorable: true }),
    field('sessionId', 'int32', '7+', { default: 0, ignorable: true }),
    field('sessionEpoch', 'int32', '7+', { default: -1, ignorable: true }),
    field(
      'topics',
      arrayOf([
        field('topic', 'string', '0-12', { ignorable: true }),
        field('topicId', 'uuid', '13+', { ignorable: true }),
        field(
          'partitions',
          arrayOf([
            field('partition', 'int32', '0+'),
            field('currentLeaderEpoch', 'int32', '9+', { default: -1, ignorable: true }),
            field('fetchOffset', 'int64', '0+'),
            field('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
            field('logStartOffset', 'int64', '5+', { default: -1n, ignorable: true }),
            field('partitionMaxBytes', 'int32', '0+'),
            field('replicaDirectoryId', 'uuid', '17+', { tag: 0, ignorable: true }),
            field('highWatermark', 'int64', '18+', { tag: 1, default: 0x7fffffffffffffffn, ignorable: true }),
          ]),
          '0+',
        ),
      ]),
      '0+',
    ),
    field(
      'forgottenTopicsData',
      arrayOf([
        field('topic', 'string', '7-12', { ignorable: true }),
        field('topicId', 'uuid', '13+', { ignorable: true }),
        field('partitions', arrayOf('int32'), '7+'),
      ]),
      '7+',
    ),
    field('rackId', 'string', '11+', { default: '', ignorable: true }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '1+', { ignorable: true }),
    field('errorCode', 'int16', '7+', { ignorable: true }),
    field('sessionId', 'int32', '7+', { default: 0 }),
    field(
      'responses',
      arrayOf([
        field('topic', 'string', '0-12', { ignorable: true }),
        field('topicId', 'uuid', '13+', { ignorable: true }),
        field(
          'partitions',
          arrayOf([
            field('partitionIndex', 'int32', '0+'),
            field('errorCode', 'int16', '0+'),
            field('highWatermark', 'int64', '0+'),
            field('lastStableOffset', 'int64', '4+', { default: -1n, ignorable: true }),
            field('logStartOffset', 'int64', '5+', { default: -1n, ignorable: true }),
            field('divergingEpoch', struct([field('epoch', 'int32', '12+', { default: -1 }), field('endOffset', 'int64', '12+', { default: -1n })]), '12+', {
              tag: 0,
            }),
            field('currentLeader', struct([field('leaderId', 'int32', '12+', { default: -1 }), field('leaderEpoch', 'int32', '12+', { default: -1 })]), '12+', {
              tag: 1,
            }),
            field('snapshotId', struct([field('endOffset', 'int64', '0+', { default: -1n }), field('epoch', 'int32', '0+', { default: -1 })]), '12+', {
              tag: 2,
            }),
            field('abortedTransactions', arrayOf([field('producerId', 'int64', '4+'), field('firstOffset', 'int64', '4+')]), '4+', {
              nullable: '4+',
              ignorable: true,
            }),
            field('preferredReadReplica', 'int32', '11+', { default: -1 }),
            field('records', 'records', '0+', { nullable: '0+' }),
          ]),
          '0+',
        ),
      ]),
      '0+',
    ),
    field('nodeEndpoints', arrayOf(nodeEndpoint), '16+', { tag: 0 }),
  ],
});
