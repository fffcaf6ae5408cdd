/**
 * InitProducerId (key 22): a producer id and epoch for idempotent and transactional
 * producers. v3 (KIP-360) passes the current id and epoch so the coordinator can bump
 * the epoch instead of fencing; v4 may answer PRODUCER_FENCED; v5 TRANSACTION_ABORTABLE.
 * v6 (KIP-939, two-phase commit) is still unstable in Kafka 4.3 and is left out.
 */
import { defineApi } from '../api.js';
import { field } from '../schema.js';

export const InitProducerId = defineApi({
  key: 22,
  name: 'InitProducerId',
  versions: '0-5',
  flexible: '2+',
  clientThrottlesFrom: 1,
  request: [
    // null for an idempotent producer without transactions.
    field('transactionalId', 'string', '0+', { nullable: '0+', default: null }),
    field('transactionTimeoutMs', 'int32', '0+'),
    field('producerId', 'int64', '3+', { default: -1n }),
    field('producerEpoch', 'int16', '3+', { default: -1 }),
  ],
  response: [
    field('throttleTimeMs', 'int32', '0+', { ignorable: true }),
    field('errorCode', 'int16', '0+'),
    field('producerId', 'int64', '0+', { default: -1n }),
    field('producerEpoch', 'int16', '0+'),
  ],
});
