/**
 * EndTxn (key 26): commit or abort. v5 (KIP-890 part 2, transactions v2) bumps the
 * epoch at every end and returns the producer id and epoch for the next transaction.
 */
import { defineApi } from '../api.js';
import { field } from '../schema.js';

export const EndTxn = defineApi({
  key: 26,
  name: 'EndTxn',
  versions: '0-5',
  flexible: '3+',
  clientThrottlesFrom: 1,
  request: [
    field('transactionalId', 'string', '0+'),
    field('producerId', 'int64', '0+'),
    field('producerEpoch', 'int16', '0+'),
    field('committed', 'bool', '0+'),
  ],
  response: [
    field('throttleTimeMs', 'int32', '0+'),
    field('errorCode', 'int16', '0+'),
    field('producerId', 'int64', '5+', { default: -1n, ignorable: true }),
    field('producerEpoch', 'int16', '5+', { default: -1, ignorable: true }),
  ],
});
