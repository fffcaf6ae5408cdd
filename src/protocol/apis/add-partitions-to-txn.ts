/**
 * AddPartitionsToTxn (key 24): with transactions v1, a producer adds each partition to
 * its transaction before producing to it. v4+ (KIP-890) is for brokers verifying on a
 * producer's behalf; clients use v0-3, whose fields carry the `v3AndBelow` prefix.
 */
import { defineApi } from '../api.js';
import { arrayOf, field } from '../schema.js';

const topic = [field('name', 'string', '0+'), field('partitions', arrayOf('int32'), '0+')] as const;
const topicResult = [
  field('name', 'string', '0+'),
  field('resultsByPartition', arrayOf([field('partitionIndex', 'int32', '0+'), field('partitionErrorCode', 'int16', '0+')]), '0+'),
] as const;

export const AddPartitionsToTxn = defineApi({
  key: 24,
  name: 'AddPartitionsToTxn',
  versions: '0-3',
  flexible: '3+',
  clientThrottlesFrom: 1,
  request: [
    field('v3AndBelowTransactionalId', 'string', '0-3'),
    field('v3AndBelowProducerId', 'int64', '0-3'),
    field('v3AndBelowProducerEpoch', 'int16', '0-3'),
    field('v3AndBelowTopics', arrayOf(topic), '0-3'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '0+'),
    field('resultsByTopicV3AndBelow', arrayOf(topicResult), '0-3'),
  ],
});
