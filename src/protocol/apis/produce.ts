/**
 * Produce (key 0). Versions 3+ only: v3 brought RecordBatch v2 (magic 2) and the
 * transactional id, and Kafka 4.0 removed v0-2 (KIP-896).
 *
 * `records` holds one already-encoded record batch per partition (the producer writes
 * batches at send() time; this request only frames them).
 * v7: zstd allowed. v8: record_errors and error_message. v9: flexible. v10: current_leader
 * and node_endpoints hints (KIP-951). v11: TRANSACTION_ABORTABLE. v12: with transactions
 * v2 the partition is added to the transaction implicitly (KIP-890). v13: topic ids.
 *
 * The producer writes the request and reads the response with produce-codec.ts, the same
 * layout written out by hand for speed and checked against this definition.
 */
import { defineApi } from '../api.js';
import { arrayOf, field, struct } from '../schema.js';
import { produceRequestCodec, produceResponseCodec } from './produce-codec.js';

export const Produce = defineApi({
  key: 0,
  name: 'Produce',
  versions: '3-13',
  flexible: '9+',
  clientThrottlesFrom: 6,
  codecs: { request: produceRequestCodec, response: produceResponseCodec },
  request: [
    field('transactionalId', 'string', '3+', { nullable: '3+', default: null }),
    // 0: no response at all; 1: the leader's write; -1: all in-sync replicas.
    field('acks', 'int16', '0+'),
    field('timeoutMs', 'int32', '0+'),
    field(
      'topicData',
      arrayOf([
        field('name', 'string', '0-12', { ignorable: true }),
        field('topicId', 'uuid', '13+', { ignorable: true }),
        field('partitionData', arrayOf([field('index', 'int32', '0+'), field('records', 'records', '0+', { nullable: '0+' })]), '0+'),
      ]),
      '0+',
    ),
  ],
  response: [
    field(
      'responses',
      arrayOf([
        field('name', 'string', '0-12', { ignorable: true }),
        field('topicId', 'uuid', '13+', { ignorable: true }),
        field(
          'partitionResponses',
          arrayOf([
            field('index', 'int32', '0+'),
            field('errorCode', 'int16', '0+'),
            field('baseOffset', 'int64', '0+'),
            // -1 unless the topic uses LogAppendTime.
            field('logAppendTimeMs', 'int64', '2+', { default: -1n, ignorable: true }),
            field('logStartOffset', 'int64', '5+', { default: -1n, ignorable: true }),
            field(
              'recordErrors',
              arrayOf([field('batchIndex', 'int32', '8+'), field('batchIndexErrorMessage', 'string', '8+', { nullable: '8+', default: null })]),
              '8+',
              { ignorable: true },
            ),
            field('errorMessage', 'string', '8+', { nullable: '8+', default: null, ignorable: true }),
            field(
              'currentLeader',
              struct([field('leaderId', 'int32', '10+', { default: -1 }), field('leaderEpoch', 'int32', '10+', { default: -1 })]),
              '10+',
              { tag: 0 },
            ),
          ]),
          '0+',
        ),
      ]),
      '0+',
    ),
    field('throttleTimeMs', 'int32', '1+', { ignorable: true, default: 0 }),
    // Filled for NOT_LEADER_OR_FOLLOWER so the client can reach the new leader at once.
    field(
      'nodeEndpoints',
      arrayOf([
        field('nodeId', 'int32', '10+'),
        field('host', 'string', '10+'),
        field('port', 'int32', '10+'),
        field('rack', 'string', '10+', { nullable: '10+', default: null }),
      ]),
      '10+',
      { tag: 0 },
    ),
  ],
});
